/// @file base64.hpp
/// @brief Private: standard base64 (RFC 4648 section 4, padded) over OpenSSL's EVP
///        block functions, for docker config `auth` fields and Basic authorization.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace knast {
inline namespace v0 {
namespace registry_detail {

/// @p bytes in padded standard base64.
std::string base64_encode(std::string_view bytes);

/// The bytes @p text encodes, or nothing if it is not padded standard base64 (surrounding
/// whitespace is ignored, whitespace inside is not).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
