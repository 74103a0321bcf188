// Route groups of the Azure Batch data-plane subset. Each takes the parsed request (path
// segments already split and decoded) and answers it; the router has already authenticated
// the caller and checked api-version. Routes run on the Asio executor and co_await the
// store's group commit for writes.
#pragma once

#include "scheduler/api/http_types.hpp"
#include "scheduler/api/request_context.hpp"
#include "scheduler/api/services.hpp"

#include <boost/asio/awaitable.hpp>

namespace openbatch::api {

using RouteResult = boost::asio::awaitable<HttpResponse>;

RouteResult pools_route(const RequestContext& ctx, Services& services);  // /pools...
RouteResult nodes_route(const RequestContext& ctx, Services& services);  // /pools/{p}/nodes...
RouteResult jobs_route(const RequestContext& ctx, Services& services);   // /jobs...
RouteResult tasks_route(const RequestContext& ctx, Services& services);  // /jobs/{j}/tasks...
RouteResult files_route(const RequestContext& ctx, Services& services);  // .../files...
RouteResult applications_route(const RequestContext& ctx, Services& services);  // /applications...
RouteResult account_route(const RequestContext& ctx,
                          Services& services);  // /supportedimages, /nodecounts

// Shared answers.
HttpResponse unsupported_verb(const RequestContext& ctx);
HttpResponse invalid_uri(const RequestContext& ctx);

}  // namespace openbatch::api
