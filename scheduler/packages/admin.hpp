// Application package administration as store writes: creating and deleting an application,
// committing an uploaded version, activating it, deleting it. Each function below is the body
// of one store write (store::write's op, on the writer thread): it returns what the op returns
// (false rolls the op back) and, when a rule refuses the request, sets `error` to the answer.
// The /applications routes (scheduler/api/application_admin.cpp) speak HTTP around them.
//
// A new version is pending until activated; only active versions may be referenced by pools
// and tasks. Blobs: see blob_store.hpp (staged, published inside the write, retired two-phase).
#pragma once

#include "common/error.hpp"
#include "common/time.hpp"
#include "scheduler/packages/blob_store.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::packages {

Error application_not_found();
Error package_not_found();

// The stored application; nullopt when there is none (or its record does not parse).
std::optional<nlohmann::json> load_application(store::Reader& reader, std::string_view id);

// An application's allowUpdates (Azure's default: true).
bool allows_updates(const nlohmann::json& app);

// PUT /applications/{app}: creates the application or updates the fields `body` names
// (displayName, allowUpdates, defaultVersion: already type-checked). The default version must
// be an existing active version. `created` says which it was.
bool put_application(store::Writer& w, const std::string& id, const nlohmann::json& body,
                     bool& created, Error& error);

// DELETE /applications/{app}: only once it has no versions.
bool delete_application(store::Writer& w, const std::string& id, Error& error);

// Whether `version` may be uploaded to `app` (nullopt: no such application). Checked before
// the body is read (a doomed upload is not received) and again under the write.
Status may_upload(const std::optional<nlohmann::json>& app, const std::string& version);

// What committing an upload did; the route settles the blobs with it once the commit's
// outcome is known (discard_staged, settle_retired).
struct CommittedUpload {
  nlohmann::json saved;    // the application as written
  std::string stored;      // the version as stored (its first spelling)
  bool created = false;    // a new version (else the content of an existing one replaced)
  std::string old_digest;  // the replaced content's digest, if any
  std::optional<std::filesystem::path> retired;  // where that content went, if nothing shares it
  bool applied = false;                          // the application record was written
};

// Publishes `staged` and records it as `version` of application `id`, active at `now` when
// `activate`, else pending.
bool commit_upload(store::Writer& w, const std::filesystem::path& data_dir, const std::string& id,
                   const std::string& version, StagedBlob& staged, bool activate, TimePoint now,
                   CommittedUpload& out, Error& error);

// POST .../versions/{v}/activate: the version becomes active (format zip) at `now`; `saved` and
// `stored` as in CommittedUpload.
bool activate_version(store::Writer& w, const std::string& id, const std::string& version,
                      TimePoint now, nlohmann::json& saved, std::string& stored, Error& error);

// What deleting a version did with its content (settle_retired after the commit).
struct RemovedVersion {
  std::string digest;
  std::optional<std::filesystem::path> retired;
  bool applied = false;
};

// DELETE .../versions/{v}: refused (409 ApplicationPackageInUse) while a pool references it;
// its content goes with it unless another version shares it.
bool delete_version(store::Writer& w, const std::filesystem::path& data_dir, const std::string& id,
                    const std::string& version, RemovedVersion& out, Error& error);

}  // namespace openbatch::packages
