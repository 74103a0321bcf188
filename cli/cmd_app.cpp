// `openbatch app list` and `openbatch app upload APP VERSION package.zip`: OpenBatch's
// management path for application packages (PUT /applications/{app}, then PUT
// /applications/{app}/versions/{ver} with the zip as body; batch-api.md section 6).
#include <memory>

#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/input_file.hpp"

namespace openbatch::cli {
namespace {

using nlohmann::json;

struct AppOptions {
  std::string app;
  std::string version;
  std::string package;
  std::string display_name;
};

int list(Context& ctx, const AppOptions&) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto items = (*api)->list("/applications");
  if (!items) return ctx.fail(items.error());
  ctx.print_list(application_view(), *items);
  return kExitOk;
}

// PUT answers 201 when it creates and 200 when it updates.
Result<http::HttpResponse> put(Api& api, const std::string& target, std::string body,
                               http::HeaderList headers = {}) {
  auto res = api.send("PUT", target, std::move(body), std::move(headers));
  if (!res) return res.error();
  if (res->status != 200 && res->status != 201) return error_from_reply(res->status, res->body);
  return res;
}

int upload(Context& ctx, const AppOptions& o) {
  auto zip = read_input(o.package);
  if (!zip) return ctx.fail(zip.error());
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  json app = json::object();
  if (!o.display_name.empty()) app["displayName"] = o.display_name;
  if (auto res = put(**api, path_of({"applications", o.app}), to_body(app)); !res) {
    return ctx.fail(res.error());
  }
  const std::size_t bytes = zip->size();
  auto res = put(**api, path_of({"applications", o.app, "versions", o.version}), std::move(*zip),
                 {{"Content-Type", "application/zip"}});
  if (!res) return ctx.fail(res.error());
  ctx.out() << "uploaded " << o.app << " " << o.version << " (" << bytes << " bytes)\n";
  return kExitOk;
}

}  // namespace

void add_app_commands(CLI::App& root, Context& ctx) {
  auto* app = root.add_subcommand("app", "Application packages: list, upload");
  app->require_subcommand(1);
  auto o = std::make_shared<AppOptions>();

  auto* list_cmd = app->add_subcommand("list", "List applications and their active versions");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* upload_cmd = app->add_subcommand("upload", "Create or update an application and upload a version (.zip)");
  upload_cmd->add_option("app", o->app, "application id")->required();
  upload_cmd->add_option("version", o->version, "version")->required();
  upload_cmd->add_option("package", o->package, "package .zip (- for stdin)")->required();
  upload_cmd->add_option("--display-name", o->display_name, "the application's display name");
  on_parsed(upload_cmd, ctx, [&ctx, o] { return upload(ctx, *o); });
}

}  // namespace openbatch::cli
