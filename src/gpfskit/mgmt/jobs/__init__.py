"""The job machinery: records in the store, a Huey queue, log capture, crash recovery.

    submit   create a job record for an item (or a job type) and queue it
    engine   the Huey instance and the worker threads (inside ``gpfskit serve``, or
             ``gpfskit worker``)
    runner   what a worker does with a job: claim, run the task, record the outcome
    capture  per-job stdout/stderr capture (logging goes to stderr)
    recovery jobs left RUNNING by a worker that died: retried or marked ERRORED
"""
