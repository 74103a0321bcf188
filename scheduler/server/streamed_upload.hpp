// The router's streamed requests (api::Router::streams_body: package uploads) on a
// connection: the header goes to the router at once, and the body is handed to the route as
// an api::BodySource that reads it from the socket piece by piece, so that no package is ever
// held in memory and a refused upload (wrong key, unknown application) is answered before
// any of its body is read.
#pragma once

#include "scheduler/api/router.hpp"
#include "scheduler/server/http_server.hpp"

namespace openbatch::server {

// The predicate and handler to give HttpServer::route_stream. `router` must outlive them.
StreamPredicate router_streams();
StreamHandler router_stream_handler(api::Router& router);

}  // namespace openbatch::server
