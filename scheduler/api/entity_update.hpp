// update_entity: the read-modify-write every PATCH/PUT/action route does on a top-level
// entity, as one op of the store's group commit -- load the current entity under the writer,
// answer not-found, evaluate If-Match & co. against it, let the route mutate it, stamp a new
// eTag/lastModified, and save. Doing all of it inside the write op makes the check and the
// change atomic: no other request can slip between them.
#pragma once

#include "common/error.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/request_context.hpp"
#include "scheduler/api/services.hpp"
#include "scheduler/store/async_write.hpp"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace openbatch::api {

// `mutate(store::Writer&, nlohmann::json& entity) -> Status` may refuse with an Error; the
// result is the saved entity or the first Error.
template <class Mutate>
boost::asio::awaitable<Result<nlohmann::json>> update_entity(const RequestContext& ctx, Services& s,
                                                             store::Table table,
                                                             const std::string& id,
                                                             Error (*not_found)(), Mutate mutate) {
  Error error;
  nlohmann::json saved;
  const std::string etag = s.etags.next();
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto current = load_entity(w, table, "", id);
    if (!current) {
      error = not_found();
      return false;
    }
    if (auto pre = check_preconditions(ctx, *current, false); !pre) {
      error = pre.error();
      return false;
    }
    if (Status m = mutate(w, *current); !m) {
      error = m.error();
      return false;
    }
    touch(*current, etag, ctx.now);
    saved = std::move(*current);
    if (!w.update(table, make_record(saved, ""))) {
      error = errors::internal("The entity could not be saved.");
      return false;
    }
    return true;
  });
  if (!status) co_return status.error();
  if (!error.code.empty()) co_return error;
  co_return saved;
}

}  // namespace openbatch::api
