// File routes for task files (/jobs/{j}/tasks/{t}/files[/{path}]) and node files
// (/pools/{p}/nodes/{n}/files[/{path}]): list, GET (with ocp-range, answered 200 as the SDK
// requires), HEAD (properties) and DELETE. The path may arrive as one encoded segment
// (`wd%2Fout.txt`, as the JS SDK sends it) or as several; `\` counts as `/`; `..` is refused.
#include "common/http_date.hpp"
#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/odata/filter.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace openbatch::api {
namespace {

using nlohmann::json;
using store::Table;

// Where the files live: a node, a directory under its root, and the URL prefix of file urls.
struct FileScope {
  std::string pool;
  std::string node;
  std::string root;        // relative to the node root ("" or "workitems/j/job-1/t")
  std::string url_prefix;  // ".../files/"
};

Result<std::string> relative_path(const std::vector<std::string>& segments, std::size_t first) {
  std::string path;
  for (std::size_t i = first; i < segments.size(); ++i) {
    if (!path.empty()) path += '/';
    path += segments[i];
  }
  for (auto& c : path)
    if (c == '\\') c = '/';
  std::string clean;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    std::string part =
        path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (part == "..")
      return errors::invalid_property("filePath", path, "The file path may not contain '..'.");
    if (!part.empty() && part != ".") clean += (clean.empty() ? "" : "/") + part;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return clean;
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

Result<std::optional<ByteRange>> parse_range(const RequestContext& ctx) {
  auto h = ctx.header("ocp-range");
  if (!h) return std::optional<ByteRange>{};
  std::string_view v = *h;
  auto bad = [&] {
    return Error(416, "InvalidRange",
                 "The ocp-range header is not a valid byte range (bytes=a-b).");
  };
  if (!v.starts_with("bytes=")) return bad();
  v.remove_prefix(6);
  auto dash = v.find('-');
  if (dash == std::string_view::npos) return bad();
  ByteRange r;
  auto first = v.substr(0, dash), last = v.substr(dash + 1);
  if (std::from_chars(first.data(), first.data() + first.size(), r.first).ec != std::errc())
    return bad();
  if (!last.empty()) {
    uint64_t l = 0;
    if (std::from_chars(last.data(), last.data() + last.size(), l).ec != std::errc() || l < r.first)
      return bad();
    r.last = l;
  }
  return std::optional<ByteRange>{r};
}

void set_file_headers(HttpResponse& res, const FileInfo& info, const std::string& url) {
  res.set(http::field::content_type, "application/octet-stream");
  res.set(http::field::last_modified, format_http_date(info.last_modified));
  res.set("ocp-creation-time", format_http_date(info.creation_time));
  res.set("ocp-batch-file-isdirectory", info.is_directory ? "true" : "false");
  res.set("ocp-batch-file-url", url);
  char mode[16];
  std::snprintf(mode, sizeof mode, "0%o", info.mode);
  res.set("ocp-batch-file-mode", mode);
}

// The coroutines below take their arguments by reference: files_route awaits each at once,
// so the request and the scope outlive them.
RouteResult get_file(const RequestContext& ctx, Services& s, const FileScope& scope,
                     const std::string& rel) {
  const std::string path = join(scope.root, rel);
  auto info = co_await s.node_files->stat(scope.pool, scope.node, path);
  if (!info) co_return error_response(ctx, info.error());
  const std::string url = scope.url_prefix + rel;
  if (ctx.method == "HEAD") {
    auto res = empty_response(ctx, http::status::ok);
    set_file_headers(res, *info, url);
    res.content_length(info->is_directory ? 0 : info->size);
    co_return res;
  }
  if (info->is_directory)
    co_return error_response(
        ctx, errors::not_found("FileNotFound", "The path names a directory, not a file."));
  auto range = parse_range(ctx);
  if (!range) co_return error_response(ctx, range.error());
  if (auto modified = ctx.header("If-Modified-Since")) {
    auto since = parse_http_date(*modified);
    if (since && std::chrono::floor<std::chrono::seconds>(info->last_modified) <= *since) {
      co_return empty_response(ctx, http::status::not_modified);
    }
  }
  if (auto unmodified = ctx.header("If-Unmodified-Since")) {
    auto since = parse_http_date(*unmodified);
    if (since && std::chrono::floor<std::chrono::seconds>(info->last_modified) > *since) {
      co_return error_response(
          ctx, Error(412, "ConditionNotMet", "The file was modified since the given time."));
    }
  }
  auto data = co_await s.node_files->read(scope.pool, scope.node, path, *range);
  if (!data) co_return error_response(ctx, data.error());
  auto res = empty_response(ctx, http::status::ok);  // 200 even for ranges: the SDK rejects 206
  set_file_headers(res, *info, url);
  res.body() = std::move(*data);
  co_return res;
}

RouteResult list_files(const RequestContext& ctx, Services& s, const FileScope& scope) {
  auto max_results = parse_max_results(ctx, 1000, 1000);
  if (!max_results) co_return error_response(ctx, max_results.error());
  const auto recursive_param = ctx.query_param("recursive");
  const bool recursive = recursive_param && text::iequals(*recursive_param, "true");
  std::optional<odata::Filter> filter;
  if (auto text = ctx.query_param("$filter"); text && !text->empty()) {
    auto parsed = odata::parse_filter_for(*text, "files");
    if (!parsed) co_return error_response(ctx, parsed.error());
    filter = std::move(*parsed);
  }
  std::size_t skip = 0;
  if (auto token = ctx.query_param("$skiptoken")) {
    if (std::from_chars(token->data(), token->data() + token->size(), skip).ec != std::errc()) {
      co_return error_response(
          ctx, errors::invalid_query("$skiptoken", *token, "The continuation token is not valid."));
    }
  }
  constexpr std::size_t kMaxListed = 100000;  // bounds the work of one listing
  auto files =
      co_await s.node_files->list(scope.pool, scope.node, scope.root, recursive, kMaxListed);
  if (!files) co_return error_response(ctx, files.error());
  json value = json::array();
  std::size_t index = 0;
  std::size_t next = 0;
  for (const auto& f : *files) {
    json entry = {
        {"name", f.name}, {"url", scope.url_prefix + f.name}, {"isDirectory", f.is_directory}};
    if (!f.is_directory) {
      entry["properties"] = {{"creationTime", format_iso8601(f.creation_time)},
                             {"lastModified", format_iso8601(f.last_modified)},
                             {"contentLength", f.size},
                             {"contentType", "application/octet-stream"},
                             {"fileMode", [&] {
                                char m[16];
                                std::snprintf(m, sizeof m, "0%o", f.mode);
                                return std::string(m);
                              }()}};
    }
    if (filter && !filter->matches(entry)) continue;
    if (index++ < skip) continue;
    if (value.size() == *max_results) {
      next = index - 1;
      break;
    }
    value.push_back(std::move(entry));
  }
  json body = {{"odata.metadata", ctx.base_url + "/$metadata#files"}, {"value", std::move(value)}};
  if (next) body["odata.nextLink"] = next_link(ctx, std::to_string(next));
  co_return json_response(ctx, http::status::ok, dump_json(body));
}

RouteResult delete_file(const RequestContext& ctx, Services& s, const FileScope& scope,
                        const std::string& rel) {
  const auto recursive_param = ctx.query_param("recursive");
  const bool recursive = recursive_param && text::iequals(*recursive_param, "true");
  auto st = co_await s.node_files->remove(scope.pool, scope.node, join(scope.root, rel), recursive);
  if (!st) co_return error_response(ctx, st.error());
  co_return empty_response(ctx, http::status::ok);
}

// Resolves the scope of a task's files: the node it ran (or runs) on and its task directory.
Result<FileScope> task_scope(const RequestContext& ctx, Services& s) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", ctx.segments[1]);
  if (!job) return job_not_found();
  auto task = load_entity(*reader, Table::Tasks, job->id, ctx.segments[3]);
  if (!task) return task_not_found();
  auto node_info = task->find("nodeInfo");
  if (node_info == task->end() || !node_info->contains("nodeId")) {
    return errors::conflict("TaskFilesUnavailable",
                            "The task has not run on a compute node, so it has no files yet.");
  }
  FileScope scope;
  scope.pool = node_info->value("poolId", "");
  scope.node = node_info->value("nodeId", "");
  std::string root = node_info->value("taskRootDirectory", "");
  for (auto& c : root)
    if (c == '\\') c = '/';
  scope.root = root;
  scope.url_prefix = task->value("url", "") + "/files/";
  if (!reader->get(Table::Nodes, scope.pool, scope.node)) {
    return errors::conflict("TaskFilesUnavailable",
                            "The compute node that ran the task is no longer in the pool.");
  }
  return scope;
}

Result<FileScope> node_scope(const RequestContext& ctx, Services& s) {
  auto reader = s.store.reader();
  auto pool = reader->get(Table::Pools, "", ctx.segments[1]);
  if (!pool) return pool_not_found();
  auto node = load_entity(*reader, Table::Nodes, pool->id, ctx.segments[3]);
  if (!node) return node_not_found();
  return FileScope{pool->id, node->value("id", ""), "", node->value("url", "") + "/files/"};
}

}  // namespace

RouteResult files_route(const RequestContext& ctx, Services& s) {
  // segments: jobs/{j}/tasks/{t}/files[/...] or pools/{p}/nodes/{n}/files[/...]
  const bool is_task = ctx.segments[0] == "jobs";
  auto scope = is_task ? task_scope(ctx, s) : node_scope(ctx, s);
  if (!scope) co_return error_response(ctx, scope.error());
  auto rel = relative_path(ctx.segments, 5);
  if (!rel) co_return error_response(ctx, rel.error());
  const std::string& m = ctx.method;
  if (ctx.segments.size() == 5 || rel->empty()) {
    if (m == "GET") co_return co_await list_files(ctx, s, *scope);
    co_return unsupported_verb(ctx);
  }
  if (m == "GET" || m == "HEAD") co_return co_await get_file(ctx, s, *scope, *rel);
  if (m == "DELETE") co_return co_await delete_file(ctx, s, *scope, *rel);
  co_return unsupported_verb(ctx);
}

}  // namespace openbatch::api
