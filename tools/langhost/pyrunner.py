"""Runs a Pulumi Python program for the secure-eks language host (tools/langhost).

The `pulumi` package has no command that runs a program, so the host runs this
file with the program's Python (its virtualenv):

    python -u pyrunner.py --monitor ADDR --engine ADDR --project P --stack S
        [--organization O] [--root-directory DIR] [--parallel N] [--dry-run]
        PROGRAM [ARG...]

PROGRAM is a directory (holding __main__.py) or a .py file. The configuration
comes from PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, which the SDK reads itself.

Exit status: 0 on success; 32 when the error was reported through the engine
(the host then prints nothing more), or when the engine interrupted the program
(SIGINT) while shutting down; 1 when even reporting was not possible.
"""

import argparse
import asyncio
import os
import runpy
import signal
import sys
import traceback

LOGGED_ERROR = 32


def parse(argv):
    ap = argparse.ArgumentParser(prog="pyrunner")
    ap.add_argument("--monitor", required=True)
    ap.add_argument("--engine", default="")
    ap.add_argument("--project", required=True)
    ap.add_argument("--stack", required=True)
    ap.add_argument("--organization", default=None)
    ap.add_argument("--root-directory", default=None)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("program")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    return ap.parse_args(argv)


def engine_went_away(err):
    """True when the error only says the engine hung up: it already reported why."""
    try:
        import grpc
    except ImportError:
        return False
    return isinstance(err, grpc.RpcError) and err.code() == grpc.StatusCode.UNAVAILABLE


def interrupted(signum, frame):
    """SIGINT/SIGTERM: the engine is shutting the deployment down, after an error it
    already reported or on the user's Ctrl-C. Leave at once and quietly: worker threads
    may be blocked in calls the engine will never answer, and a KeyboardInterrupt
    traceback would only add noise."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(LOGGED_ERROR)


def main(argv):
    opts = parse(argv)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    program = os.path.abspath(opts.program)
    # Local modules next to the program are importable, as with `python PROGRAM`.
    sys.path.insert(0, program if os.path.isdir(program) else os.path.dirname(program))
    sys.argv = [program] + list(opts.args)

    try:
        import pulumi
        import pulumi.runtime
    except ImportError as err:
        sys.stderr.write(
            "error: the pulumi package is not installed in %s (%s); install the program's "
            "requirements into it (pip install -r requirements.txt) first\n" % (sys.prefix, err)
        )
        return 1

    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            project=opts.project,
            stack=opts.stack,
            monitor=opts.monitor,
            engine=opts.engine or None,
            parallel=opts.parallel,
            dry_run=opts.dry_run,
            organization=opts.organization,
            root_directory=opts.root_directory,
        )
    )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(
            pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__"))
        )
        return 0
    except Exception as err:  # everything else the program raised ends here
        if engine_went_away(err):
            return LOGGED_ERROR
        if isinstance(err, pulumi.RunError):
            message = str(err)
        else:
            message = "the program raised an exception:\n" + "".join(
                traceback.format_exception(type(err), err, err.__traceback__)
            )
        try:
            pulumi.log.error(message)
        except Exception:  # the engine is unreachable: print it ourselves
            sys.stderr.write(message + "\n")
            return 1
        return LOGGED_ERROR
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
