// `openbatch file get JOB TASK PATH [-o FILE] [--tail N]` and `openbatch file list JOB TASK
// [--recursive]`: a task's files (batch-api.md section 5.1). Downloads read the size with
// HEAD, then GET in ocp-range chunks (file_ranges.hpp).
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/file_ranges.hpp"

#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>

namespace openbatch::cli {
namespace {

struct FileOptions {
  std::string job;
  std::string task;
  std::string path;
  std::string output;
  std::optional<std::uint64_t> tail;
  bool recursive = false;
};

Result<std::uint64_t> file_size(Api& api, const std::string& target) {
  auto head = api.send("HEAD", target);
  if (!head) return head.error();
  if (head->status != 200) {
    // A HEAD reply has no body to carry the Azure error; a one-byte GET tells what is wrong.
    auto probe = api.call("GET", target, 200, {}, {{"ocp-range", "bytes=0-0"}});
    if (!probe) return probe.error();
    return error_from_reply(head->status, head->body);
  }
  const std::string_view length = head->header("Content-Length");
  std::uint64_t size = 0;
  if (std::from_chars(length.data(), length.data() + length.size(), size).ec != std::errc()) {
    return Error(200, "InvalidResponse", "the file's HEAD reply has no Content-Length");
  }
  if (head->header("ocp-batch-file-isdirectory") == "true") {
    return usage_error("file get: " + target + " is a directory (try file list)");
  }
  return size;
}

int get(Context& ctx, const FileOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  const std::string target = path_of({"jobs", o.job, "tasks", o.task, "files", o.path});
  auto size = file_size(**api, target);
  if (!size) return ctx.fail(size.error());
  std::ofstream file;
  if (!o.output.empty()) {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) return ctx.fail(usage_error("cannot write " + o.output));
  }
  std::ostream& sink = o.output.empty() ? ctx.out() : file;
  for (const ByteSpan& span : plan_ranges(*size, o.tail)) {
    auto res = (*api)->call("GET", target, 200, {}, {{"ocp-range", range_header(span)}});
    if (!res) return ctx.fail(res.error());
    sink.write(res->body.data(), static_cast<std::streamsize>(res->body.size()));
  }
  sink.flush();
  if (!sink)
    return ctx.fail(Error(0, "WriteFailed",
                          "cannot write " + (o.output.empty() ? std::string("stdout") : o.output)));
  return kExitOk;
}

int list(Context& ctx, const FileOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = path_of({"jobs", o.job, "tasks", o.task, "files"});
  target = with_query(target, "recursive", o.recursive ? "true" : "false");
  auto items = (*api)->list(target);
  if (!items) return ctx.fail(items.error());
  ctx.print_list(file_view(), *items);
  return kExitOk;
}

}  // namespace

void add_file_commands(CLI::App& root, Context& ctx) {
  auto* file = root.add_subcommand("file", "Task files: get, list");
  file->require_subcommand(1);
  auto o = std::make_shared<FileOptions>();

  auto* get_cmd =
      file->add_subcommand("get", "Download a task file (stdout.txt, stderr.txt, wd/...)");
  get_cmd->add_option("job", o->job, "job id")->required();
  get_cmd->add_option("task", o->task, "task id")->required();
  get_cmd->add_option("path", o->path, "path relative to the task directory")->required();
  get_cmd->add_option("-o,--output", o->output, "write to FILE instead of stdout");
  get_cmd->add_option("--tail", o->tail, "only the last N bytes");
  on_parsed(get_cmd, ctx, [&ctx, o] { return get(ctx, *o); });

  auto* list_cmd = file->add_subcommand("list", "List a task's files");
  list_cmd->add_option("job", o->job, "job id")->required();
  list_cmd->add_option("task", o->task, "task id")->required();
  list_cmd->add_flag("--recursive", o->recursive, "include everything under wd/");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });
}

}  // namespace openbatch::cli
