// Application package administration. Azure does this through ARM (create the package, upload
// the .zip to the storage URL it returns, activate); OpenBatch serves the same steps on the
// data-plane endpoint, SharedKey-authenticated like every route (docs/api.md, "Applications"):
//   PUT    /applications/{app}                      {displayName?, defaultVersion?, allowUpdates?}
//   DELETE /applications/{app}                      only once it has no versions
//   GET    /applications/{app}/versions             every version, pending ones included
//   PUT    /applications/{app}/versions/{v}[?activate=true]   body = the .zip, streamed
//   GET    /applications/{app}/versions/{v}
//   POST   /applications/{app}/versions/{v}/activate  {"format":"zip"}
//   DELETE /applications/{app}/versions/{v}         refused while a pool references it
// A new version is pending until activated; only active versions may be referenced by pools
// and tasks and are listed by the data plane's GET /applications.
#pragma once

#include "scheduler/api/routes.hpp"

namespace openbatch::api {

// Every /applications request except the data plane's GET /applications[/{app}].
RouteResult application_admin_route(const RequestContext& ctx, Services& services);

}  // namespace openbatch::api
