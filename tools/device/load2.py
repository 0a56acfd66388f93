# A GPU load of a given duty: argv[1] seconds, argv[2] busy fraction (sleeps between products).
import sys, time, os
import torch
secs = float(sys.argv[1]); duty = float(sys.argv[2])
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
print(f"pid {os.getpid()} ready", file=sys.stderr, flush=True)
t = time.time(); n = 0
while time.time() - t < secs:
    s = time.time()
    for _ in range(20): (a @ a)
    torch.cuda.synchronize(); n += 1
    busy = time.time() - s
    if duty < 1: time.sleep(busy * (1 - duty) / duty)
print(f"pid {os.getpid()} rounds {n}", file=sys.stderr, flush=True)
