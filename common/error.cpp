#include "common/error.hpp"

#include <stdexcept>

namespace openbatch {

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  throw std::logic_error("value() of a failed Result at " + std::string(loc.file_name()) + ":" +
                         std::to_string(loc.line()) + ": " + e.code + ": " + e.message);
}

namespace errors {

Error missing_property(std::string_view property) {
  return Error(400, "MissingRequiredProperty",
               "A required property was not specified in the request body.",
               {{"PropertyName", std::string(property)}});
}

Error invalid_property(std::string_view property, std::string_view value, std::string_view reason) {
  std::vector<ErrorDetail> v{{"PropertyName", std::string(property)}};
  if (!value.empty()) v.push_back({"PropertyValue", std::string(value)});
  if (!reason.empty()) v.push_back({"Reason", std::string(reason)});
  return Error(400, "InvalidPropertyValue",
               "The value provided for one of the properties in the request body is invalid.",
               std::move(v));
}

Error unsupported_property(std::string_view property, std::string_view reason) {
  std::vector<ErrorDetail> v{{"PropertyName", std::string(property)}};
  if (!reason.empty()) v.push_back({"Reason", std::string(reason)});
  return Error(400, "UnsupportedProperty",
               "One of the properties specified in the request body is not supported.",
               std::move(v));
}

Error invalid_body(std::string_view reason) {
  return Error(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.",
               {{"Reason", std::string(reason)}});
}

Error missing_query(std::string_view name) {
  return Error(400, "MissingRequiredQueryParameter",
               "A query parameter that's mandatory for this request is not specified.",
               {{"QueryParameterName", std::string(name)}});
}

Error invalid_query(std::string_view name, std::string_view value, std::string_view reason) {
  std::vector<ErrorDetail> v{{"QueryParameterName", std::string(name)},
                             {"QueryParameterValue", std::string(value)}};
  if (!reason.empty()) v.push_back({"Reason", std::string(reason)});
  return Error(400, "InvalidQueryParameterValue",
               "Value for one of the query parameters specified in the request URI is invalid.",
               std::move(v));
}

Error invalid_header(std::string_view name, std::string_view value, std::string_view reason) {
  std::vector<ErrorDetail> v{{"HeaderName", std::string(name)},
                             {"HeaderValue", std::string(value)}};
  if (!reason.empty()) v.push_back({"Reason", std::string(reason)});
  return Error(400, "InvalidHeaderValue",
               "The value for one of the HTTP headers is not in the correct format.", std::move(v));
}

Error not_found(std::string_view code, std::string_view message) {
  return Error(404, std::string(code), std::string(message));
}

Error conflict(std::string_view code, std::string_view message) {
  return Error(409, std::string(code), std::string(message));
}

Error internal(std::string_view message) {
  return Error(500, "InternalError", std::string(message));
}

}  // namespace errors
}  // namespace openbatch
