// Application package administration (Azure does this through ARM; OpenBatch serves it on the
// same endpoint, SharedKey-authenticated):
//   PUT /applications/{app}                  {displayName?, defaultVersion?, allowUpdates?}
//   PUT /applications/{app}/versions/{ver}   body = the package (.zip), stored by SHA-256
// A version becomes active once its content is stored; pools and tasks may then reference it.
// Large packages (GPU drivers) are uploaded in the packages issue's streaming path.
#pragma once

#include "scheduler/api/routes.hpp"

namespace openbatch::api {

RouteResult put_application(const RequestContext& ctx, Services& services);
RouteResult put_application_version(const RequestContext& ctx, Services& services);

}  // namespace openbatch::api
