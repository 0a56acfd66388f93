# A bounded GPU load: bf16 matrix products for the seconds given (default 10).
import sys, time
import torch
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
t = time.time(); n = 0
while time.time() - t < secs:
    (a @ a).sum().item(); n += 1
print(f"matmuls: {n} in {time.time() - t:.1f} s", file=sys.stderr)
