#!/usr/bin/python3
"""dask_classify.py -- `resnet classify` over a Dask cluster, as xargs -P or
GNU parallel runs it on one host: the paths on standard input are cut into
partitions of N, each partition is piped through one long-lived
`resnet classify ... -` process on a Dask worker, and each process's
standard output and error are passed on, whole, as its partition finishes.

    find photos -name '*.jpg' -print0 |
        python3 tests/dask_classify.py -0 -N 100 -j 4 resnet classify -0 -q -t 1 -f tsv -k 1 -

Without --scheduler it starts a LocalCluster of -j worker processes of one
thread each on this host (tests/test_scaleout.sh runs it so); with
--scheduler tcp://HOST:8786 it uses that cluster, whose workers must find
`resnet` on their PATH and the paths on a shared file system (untested).
The exit status is the largest of the processes' (resnet's: 0 every image
classified, 1 some failed, 2 usage or model errors), 2 if a process could
not run or was killed, or a worker was lost.
"""
import argparse
import logging
import os
import signal
import subprocess
import sys


def classify(cmd, paths, sep):
    """One partition on a worker: its paths, one per record, into one process."""
    try:
        r = subprocess.run(cmd, input=b"".join(p + sep for p in paths), capture_output=True)
    except OSError as e:
        return 2, b"", f"dask_classify: {cmd[0]}: {e.strerror}\n".encode()
    if r.returncode < 0:
        r.stderr += f"dask_classify: {cmd[0]} killed by signal {-r.returncode}\n".encode()
        return 2, r.stdout, r.stderr
    return r.returncode, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-j", "--workers", type=int, default=os.cpu_count(),
                    help="LocalCluster worker processes (default: one per core)")
    ap.add_argument("-N", "--paths", type=int, default=100, help="paths per partition (per process)")
    ap.add_argument("-0", "--null", action="store_true", help="paths are NUL-separated")
    ap.add_argument("--scheduler", help="address of a running Dask scheduler")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="resnet classify ... -")
    a = ap.parse_args()
    if not a.command or a.workers < 1 or a.paths < 1:
        ap.error("needs -j and -N of at least 1, and a command")
    # Killed, still close the cluster: its worker processes must not outlive
    # the run.  (timeout(1), as the test runs it, kills the whole process
    # group: workers and resnet processes too.)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))

    sep = b"\0" if a.null else b"\n"
    paths = [p for p in sys.stdin.buffer.read().split(sep) if p]
    parts = [paths[i:i + a.paths] for i in range(0, len(paths), a.paths)]
    if not parts:
        return 0

    import dask
    from distributed import Client, LocalCluster, as_completed
    cluster = client = None
    status = 0
    try:
        if a.scheduler:
            client = Client(a.scheduler)
        else:
            # Workers forked from one server process that imported Dask once,
            # not each spawned to import it again: on a few cores those
            # imports are most of a short run.  Standard error is resnet's:
            # only the cluster's errors join it.
            dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
            cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        futures = client.map(classify, [a.command] * len(parts), parts, [sep] * len(parts),
                             pure=False)
        for f in as_completed(futures):
            code, out, err = f.result()
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
            sys.stderr.buffer.write(err)
            sys.stderr.buffer.flush()
            status = max(status, code)
    except Exception as e:  # a worker lost, a scheduler unreachable
        print(f"dask_classify: {type(e).__name__}: {e}", file=sys.stderr)
        status = 2
    finally:
        if client:
            client.close()
        if cluster:
            cluster.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
