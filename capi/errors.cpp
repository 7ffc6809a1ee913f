#include "guard.hpp"

#include <knast/version.hpp>

#include <cstdlib>
#include <utility>

namespace knast::capi {
namespace {

struct LastError {
  std::string message = "no error";
  knast_error view{KNAST_OK, 0, nullptr};
};

LastError& last_error() noexcept {
  thread_local LastError error;
  return error;
}

}  // namespace

// The one mapping between C++ error kinds and C status codes; both directions use it.
constexpr std::pair<ErrorCode, knast_status> status_table[] = {
    {ErrorCode::ok, KNAST_OK},
    {ErrorCode::internal, KNAST_ERROR},
    {ErrorCode::invalid_argument, KNAST_EINVALID},
    {ErrorCode::not_found, KNAST_ENOTFOUND},
    {ErrorCode::already_exists, KNAST_EEXISTS},
    {ErrorCode::permission_denied, KNAST_EPERM},
    {ErrorCode::unsupported, KNAST_EUNSUPPORTED},
    {ErrorCode::network, KNAST_ENETWORK},
    {ErrorCode::auth, KNAST_EAUTH},
    {ErrorCode::integrity, KNAST_EINTEGRITY},
    {ErrorCode::cancelled, KNAST_ECANCELLED},
    {ErrorCode::busy, KNAST_EBUSY},
    {ErrorCode::limit_exceeded, KNAST_ELIMIT},
    {ErrorCode::io, KNAST_EIO},
};

knast_status status_for(ErrorCode code) noexcept {
  for (const auto& [kind, status] : status_table)
    if (kind == code) return status;
  return KNAST_ERROR;
}

knast_status set_last_error(knast_status status, int sys_errno, std::string_view message) noexcept {
  auto& error = last_error();
  try {
    error.message.assign(message);
  } catch (...) {
    error.message.clear();  // keeps the status even when the message cannot be stored
  }
  error.view = {status, sys_errno, error.message.c_str()};
  return status;
}

void clear_last_error() noexcept { set_last_error(KNAST_OK, 0, "no error"); }

void require(const void* pointer, const char* what) {
  if (pointer == nullptr) throw Error(ErrorCode::invalid_argument, std::string(what) + " must not be NULL");
}

std::vector<std::string> strings_of(const char* const* items, size_t count, const char* what) {
  std::vector<std::string> out;
  if (count == 0) return out;
  require(items, what);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    require(items[i], what);
    out.emplace_back(items[i]);
  }
  return out;
}

char* owned_string(std::string_view text) {
  auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

}  // namespace knast::capi

using namespace knast::capi;

extern "C" {

const knast_error* knast_last_error(void) {
  auto& error = last_error();
  error.view.message = error.message.c_str();
  return &error.view;
}

const char* knast_status_name(knast_status status) {
  if (status == KNAST_ENOMEM) return "out_of_memory";
  if (status == KNAST_ETIMEDOUT) return "timed_out";
  for (const auto& [kind, code] : status_table)
    if (code == status) return knast::to_string(kind).data();  // the names are literals
  return "unknown";
}

const char* knast_version(void) { return knast::version(); }

void knast_string_free(char* str) { std::free(str); }

}  // extern "C"
