// `openbatch app create|upload|activate|list|show|delete`: application packages through
// OpenBatch's stand-in for Azure's management plane (docs/api.md, "Applications"): create the
// application, upload a version's .zip (streamed from disk), activate it. `app list` is the
// data plane (active versions only); `app show` lists every version with its state.
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/json_fields.hpp"
#include "cli/table.hpp"

#include <filesystem>
#include <memory>

namespace openbatch::cli {
namespace {

using nlohmann::json;

struct AppOptions {
  std::string app;
  std::string version;
  std::string package;
  std::string display_name;
  bool no_activate = false;
  bool make_default = false;
};

// Azure answers 201 when a PUT creates and 200 when it replaces.
Result<http::HttpResponse> put(Api& api, const std::string& target, std::string body) {
  auto res = api.send("PUT", target, std::move(body));
  if (!res) return res.error();
  if (res->status != 200 && res->status != 201) return error_from_reply(res->status, res->body);
  return res;
}

int create(Context& ctx, const AppOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  json body = json::object();
  if (!o.display_name.empty()) body["displayName"] = o.display_name;
  auto res = put(**api, path_of({"applications", o.app}), to_body(body));
  if (!res) return ctx.fail(res.error());
  ctx.out() << "application " << o.app << (res->status == 201 ? " created\n" : " updated\n");
  return kExitOk;
}

// Creates the application unless it exists (Azure needs it before its first package).
Status ensure_application(Api& api, const AppOptions& o) {
  auto res = api.send("GET", path_of({"applications", o.app, "versions"}));
  if (!res) return res.error();
  if (res->status == 200 && o.display_name.empty()) return {};
  if (res->status != 200 && res->status != 404) return error_from_reply(res->status, res->body);
  json body = json::object();
  if (!o.display_name.empty()) body["displayName"] = o.display_name;
  auto created = put(api, path_of({"applications", o.app}), to_body(body));
  if (!created) return created.error();
  return {};
}

int upload(Context& ctx, const AppOptions& o) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.package, ec)) {
    return ctx.fail(Error(0, "InvalidArgument", o.package + " is not a file"));
  }
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  if (auto ok = ensure_application(**api, o); !ok) return ctx.fail(ok.error());
  std::string target = path_of({"applications", o.app, "versions", o.version});
  if (!o.no_activate) target = with_query(target, "activate", "true");
  auto res = (*api)->send_file("PUT", target, o.package, {{"Content-Type", "application/zip"}});
  if (!res) return ctx.fail(res.error());
  if (res->status != 200 && res->status != 201)
    return ctx.fail(error_from_reply(res->status, res->body));
  json package = json::parse(res->body, nullptr, false);
  if (o.make_default) {
    auto def =
        put(**api, path_of({"applications", o.app}), to_body(json{{"defaultVersion", o.version}}));
    if (!def) return ctx.fail(def.error());
  }
  if (ctx.options.json) {
    ctx.out() << to_body_pretty(package) << '\n';
    return kExitOk;
  }
  ctx.out() << "uploaded " << o.app << " " << o.version << " (" << text_at(package, "size")
            << " bytes, sha256 " << text_at(package, "sha256") << ", " << text_at(package, "state")
            << ")\n";
  return kExitOk;
}

int activate(Context& ctx, const AppOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res =
      (*api)->call("POST", path_of({"applications", o.app, "versions", o.version, "activate"}), 200,
                   to_body(json{{"format", "zip"}}));
  if (!res) return ctx.fail(res.error());
  if (ctx.options.json) {
    ctx.out() << to_body_pretty(json::parse(res->body, nullptr, false)) << '\n';
    return kExitOk;
  }
  ctx.out() << "activated " << o.app << " " << o.version << "\n";
  return kExitOk;
}

int list(Context& ctx, const AppOptions&) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto items = (*api)->list("/applications");
  if (!items) return ctx.fail(items.error());
  ctx.print_list(application_view(), *items);
  return kExitOk;
}

int show(Context& ctx, const AppOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto app = (*api)->get_json(path_of({"applications", o.app, "versions"}));
  if (!app) return ctx.fail(app.error());
  if (ctx.options.json) {
    ctx.out() << to_body_pretty(*app) << '\n';
    return kExitOk;
  }
  const EntityView& view = application_versions_view();
  ctx.out() << render_properties(entity_fields(view, *app)) << '\n'
            << list_table(view, app->value("value", json::array())).render();
  return kExitOk;
}

int remove(Context& ctx, const AppOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = path_of({"applications", o.app});
  if (!o.version.empty()) target = path_of({"applications", o.app, "versions", o.version});
  auto res = (*api)->call("DELETE", target, 204);
  if (!res) return ctx.fail(res.error());
  ctx.out() << "deleted " << o.app << (o.version.empty() ? "" : " " + o.version) << "\n";
  return kExitOk;
}

}  // namespace

void add_app_commands(CLI::App& root, Context& ctx) {
  auto* app = root.add_subcommand(
      "app", "Application packages: create, upload, activate, list, show, delete");
  app->require_subcommand(1);
  auto o = std::make_shared<AppOptions>();

  auto* create_cmd = app->add_subcommand("create", "Create (or rename) an application");
  create_cmd->add_option("app", o->app, "application id")->required();
  create_cmd->add_option("--display-name", o->display_name, "the application's display name");
  on_parsed(create_cmd, ctx, [&ctx, o] { return create(ctx, *o); });

  auto* upload_cmd = app->add_subcommand(
      "upload", "Upload a version (.zip, streamed); creates the application if needed");
  upload_cmd->add_option("app", o->app, "application id")->required();
  upload_cmd->add_option("version", o->version, "version")->required();
  upload_cmd->add_option("package", o->package, "package .zip")->required();
  upload_cmd->add_option("--display-name", o->display_name, "the application's display name");
  upload_cmd->add_flag("--no-activate", o->no_activate,
                       "leave the version pending (activate it later)");
  upload_cmd->add_flag("--default", o->make_default, "make it the application's default version");
  on_parsed(upload_cmd, ctx, [&ctx, o] { return upload(ctx, *o); });

  auto* activate_cmd = app->add_subcommand("activate", "Activate a pending version");
  activate_cmd->add_option("app", o->app, "application id")->required();
  activate_cmd->add_option("version", o->version, "version")->required();
  on_parsed(activate_cmd, ctx, [&ctx, o] { return activate(ctx, *o); });

  auto* list_cmd = app->add_subcommand("list", "List applications and their active versions");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* show_cmd = app->add_subcommand("show", "Show an application and all its versions");
  show_cmd->add_option("app", o->app, "application id")->required();
  on_parsed(show_cmd, ctx, [&ctx, o] { return show(ctx, *o); });

  auto* delete_cmd =
      app->add_subcommand("delete", "Delete a version, or an application without versions");
  delete_cmd->add_option("app", o->app, "application id")->required();
  delete_cmd->add_option("version", o->version, "version (omit to delete the application)");
  on_parsed(delete_cmd, ctx, [&ctx, o] { return remove(ctx, *o); });
}

}  // namespace openbatch::cli
