#include "scheduler/store/credentials.hpp"

#include "common/auth/bearer_token.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::store {

Record credential_record(std::string_view kind, const std::string& id, std::string_view token,
                         const std::string& pool_id) {
  nlohmann::json body = {{"digest", auth::token_digest(token)}, {"poolId", pool_id}};
  return Record{id, std::string(kind), "active", body.dump(), 0};
}

bool put_credential(Writer& w, const Record& record) {
  Record copy = record;
  if (w.insert(Table::Credentials, copy)) return true;
  return w.update(Table::Credentials, record);
}

bool credential_matches(Reader& r, std::string_view kind, const std::string& id,
                        std::string_view token) {
  auto record = r.get(Table::Credentials, kind, id);
  if (!record) return false;
  auto body = nlohmann::json::parse(record->body, nullptr, false);
  if (!body.is_object()) return false;
  return auth::token_matches(token, body.value("digest", ""));
}

}  // namespace openbatch::store
