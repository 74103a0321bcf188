#!/usr/bin/env python3
"""perf_buckets.py: splits the samples of `perf script -F tid,ip,sym` (taken with --call-graph)
of the scheduler into named cost buckets, per thread role, so the top costs of a request path
read as one table. Usage: perf script -i perf.data -F tid,ip,sym | bench/perf_buckets.py PID
"""
import collections
import sys

# First match wins, walking the rules in order; a rule matches when any frame of the sample
# contains one of its substrings. Writer-thread rules come first (they only match there).
RULES = [
    ("store: COMMIT (WAL append + fsync syscalls)", ["SqliteStore::run_control"]),
    ("store: INSERT rows (b-tree, indexes)", ["ConnectionWriter::insert"]),
    ("store: reads under the writer (job recheck)", ["ConnectionWriter::get", "query_get"]),
    ("store: writer other (queue, done callbacks)", ["SqliteStore::writer_loop"]),
    ("api: validate_task_add", ["validate_task_add"]),
    ("api: make_record (dump entity JSON)", ["make_record"]),
    ("api: make_task / stamp_new (entity build)", ["make_task", "stamp_new"]),
    ("api: parse request JSON", ["parse_json_body"]),
    ("api: load job (reader)", ["load_entity", "ReaderPool", "SqliteReader"]),
    ("api: list pages (reader + body)", ["list_entities"]),
    ("api: add_tasks other (reply JSON, etag, ...)", ["add_tasks"]),
    ("auth: SharedKey verify (HMAC)", ["openbatch::auth::"]),
    ("http: write response", ["write_op", "write_some_op", "serializer<"]),
    ("http: read + parse request", ["read_op", "read_some_op", "basic_parser"]),
    ("router / request context", ["Router::handle", "RequestContext"]),
    ("asio: reactor, epoll, scheduling", ["epoll", "scheduler::run", "scheduler::do_run_one"]),
]


def samples(stream):
    tid, frames = None, []
    for line in stream:
        if not line.strip():
            continue
        if not line.startswith((" ", "\t")):  # a sample header: "TID"
            if tid is not None:
                yield tid, frames
            tid, frames = int(line.split()[0]), []
        else:
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else parts[0])
    if tid is not None:
        yield tid, frames


def main():
    pid = int(sys.argv[1]) if len(sys.argv) > 1 else None
    by_bucket = collections.Counter()
    by_thread = collections.Counter()
    writer_tids = set()
    total = 0
    for tid, frames in samples(sys.stdin):
        total += 1
        text = "\n".join(frames)
        if "SqliteStore::writer_loop" in text:
            writer_tids.add(tid)
            role = "store-writer"
        elif tid == pid:
            role = "io-main"
        else:
            role = "io"
        by_thread[role] += 1
        bucket = "other"
        for name, needles in RULES:
            if any(n in text for n in needles):
                bucket = name
                break
        if bucket == "other" and frames and frames[0].startswith(("[k]", "0xffff")):
            bucket = "other (kernel)"
        by_bucket[bucket] += 1
    if not total:
        print("no samples")
        return
    print(f"{total} samples; by thread: " +
          ", ".join(f"{r} {100.0 * n / total:.1f}%" for r, n in by_thread.most_common()))
    for name, n in by_bucket.most_common():
        print(f"  {100.0 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
