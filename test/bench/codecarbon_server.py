"""A small Python HTTP server for the CodeCarbon side-by-side benchmark (codecarbon.ts).

    python codecarbon_server.py VARIANT OUTPUT_DIR

VARIANT is one of:
  bare        the handler as is;
  decorator   the handler wrapped with CodeCarbon's @track_emissions, as the workshop did;
  task        one OfflineEmissionsTracker made at start, start_task()/stop_task() per request.

Standard library http.server (one thread per connection, HTTP/1.1 keep-alive, no request log
lines), bound to 127.0.0.1 on a port the OS picks; prints "listening PORT" when it accepts.
Routes: GET /work (the measured one: a little fixed work, a small JSON answer) and GET /stats
(how many /work requests were served and how many CodeCarbon reported on). CodeCarbon runs
offline (a country code and a fixed carbon intensity, no API, no cloud metadata lookup), logs
errors only and writes its CSV into OUTPUT_DIR. An audit hook refuses, and counts, any
connection or name lookup that is not loopback, so nothing here can leave the machine.
"""

import ipaddress
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VARIANTS = ("bare", "decorator", "task")
LOOPBACK_NAMES = {None, "", "localhost", b"localhost"}
refused = []


def is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_only(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and not is_loopback(address[0]):
            refused.append(f"connect {address[0]}")
            raise ConnectionRefusedError(f"benchmark: no connections beyond loopback ({address[0]})")
    elif event == "socket.getaddrinfo" and not is_loopback(args[0]):
        refused.append(f"lookup {args[0]}")
        raise OSError(f"benchmark: no name lookups beyond loopback ({args[0]})")


sys.addaudithook(loopback_only)


def fixed_work():
    total = 0
    for i in range(1000):
        total += i % 7
    return total


def codecarbon_options(output_dir):
    return {
        "project_name": "carbonscope-bench",
        "output_dir": output_dir,
        "log_level": "error",
        "country_iso_code": "DEU",
        "force_carbon_intensity_g_co2e_kwh": 300,
    }


def make_handler(variant, output_dir):
    """Returns (handle, tracked, stop): the /work body, its count of reports, the shutdown."""
    if variant == "bare":
        return fixed_work, lambda: None, lambda: None

    from codecarbon import OfflineEmissionsTracker, track_emissions

    options = codecarbon_options(output_dir)
    if variant == "decorator":
        handle = track_emissions(offline=True, **options)(fixed_work)

        def rows_written():
            # One CSV row per tracked call, written when the call's tracker stops.
            path = os.path.join(output_dir, "emissions.csv")
            if not os.path.exists(path):
                return 0
            with open(path) as csv_file:
                return max(0, sum(1 for _ in csv_file) - 1)

        return handle, rows_written, lambda: None

    tracker = OfflineEmissionsTracker(**options)
    # CodeCarbon measures one task at a time: concurrent requests take turns.
    lock = threading.Lock()
    reports = [0]

    def handle():
        with lock:
            tracker.start_task()
            try:
                return fixed_work()
            finally:
                if tracker.stop_task() is not None:
                    reports[0] += 1

    return handle, lambda: reports[0], tracker.stop


def serve(variant, output_dir):
    handle, tracked, stop_tracking = make_handler(variant, output_dir)
    served = [0]
    count_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without TCP_NODELAY (Node's default) the
        # second waits for the client's delayed ACK, ~40 ms a request on keep-alive.
        disable_nagle_algorithm = True

        def do_GET(self):
            if self.path == "/work":
                body = {"variant": variant, "result": handle()}
                with count_lock:
                    served[0] += 1
                self.answer(200, body)
            elif self.path == "/stats":
                self.answer(
                    200,
                    {
                        "variant": variant,
                        "served": served[0],
                        "tracked": tracked(),
                        "refusedConnections": list(refused),
                    },
                )
            else:
                self.answer(404, {"error": "not_found", "message": f"no route {self.path}"})

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # socketserver's default backlog of 5 drops connection bursts (1 s SYN retries).
        request_queue_size = 128

        def handle_error(self, request, client_address):
            # The load generator hangs up on requests still in flight when a run ends.
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)

    def on_term(_signum, _frame):
        # shutdown() waits for serve_forever() to return, so it cannot run on its thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        stop_tracking()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in VARIANTS:
        sys.exit(f"usage: codecarbon_server.py {'|'.join(VARIANTS)} OUTPUT_DIR")
    serve(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
