// Error and Result: how every OpenBatch module reports an expected failure.
//
// An Error carries what the Azure Batch wire shape needs (HTTP status, code, message, and
// key/value details such as PropertyName) so that the API layer can answer without
// translation. Result<T> is boost::system::result<T, Error>; exceptions never cross a module
// API (see docs/dev/style.md). Thread-safe: plain values.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch {

struct ErrorDetail {
  std::string key;
  std::string value;
  bool operator==(const ErrorDetail&) const = default;
};

struct Error {
  int status = 500;                 // HTTP status the API answers with
  std::string code;                 // Azure error code, e.g. "MissingRequiredProperty"
  std::string message;              // human-readable sentence
  std::vector<ErrorDetail> values;  // e.g. {PropertyName, vmSize}

  Error() = default;
  Error(int http_status, std::string error_code, std::string text,
        std::vector<ErrorDetail> details = {})
      : status(http_status),
        code(std::move(error_code)),
        message(std::move(text)),
        values(std::move(details)) {}

  // Returns the value of the first detail with `key`, or "" when absent.
  std::string detail(std::string_view key) const {
    for (const auto& d : values) {
      if (d.key == key) return d.value;
    }
    return {};
  }
};

// Thrown only by Result::value() on a programming error (reading the value of a failed
// Result); callers are expected to test the Result first.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = Result<void>;

// Factories for the errors the validators and routes produce most often. Each names the
// offending property or parameter in `values`, as Azure does.
namespace errors {
Error missing_property(std::string_view property);
Error invalid_property(std::string_view property, std::string_view value, std::string_view reason);
Error unsupported_property(std::string_view property, std::string_view reason = {});
Error invalid_body(std::string_view reason);
Error missing_query(std::string_view name);
Error invalid_query(std::string_view name, std::string_view value, std::string_view reason);
Error invalid_header(std::string_view name, std::string_view value, std::string_view reason);
Error not_found(std::string_view code, std::string_view message);
Error conflict(std::string_view code, std::string_view message);
Error internal(std::string_view message);
}  // namespace errors

}  // namespace openbatch
