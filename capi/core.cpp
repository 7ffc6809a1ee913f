// C ABI for the core value types: references, digests, hashers, platforms, documents.
#include "guard.hpp"

#include <knast/digest.hpp>
#include <knast/document.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>

#include <optional>

// The handles keep their strings, so getters can hand out borrowed pointers.
struct knast_reference {
  explicit knast_reference(knast::Reference r)
      : ref(std::move(r)),
        string(ref.string()),
        name(ref.name()),
        familiar(ref.familiar()),
        digest(ref.digest() ? std::optional<std::string>(ref.digest()->string()) : std::nullopt) {}
  knast::Reference ref;
  std::string string;
  std::string name;
  std::string familiar;
  std::optional<std::string> digest;
};

struct knast_digest {
  explicit knast_digest(knast::Digest d) : digest(std::move(d)), string(digest.string()) {}
  knast::Digest digest;
  std::string string;
};

struct knast_hasher {
  knast::Hasher hasher;
};

namespace {

using knast::capi::guard;
using knast::capi::owned_string;
using knast::capi::require;

knast::DigestAlgorithm algorithm_from(uint32_t algorithm) {
  switch (algorithm) {
    case KNAST_DIGEST_SHA256: return knast::DigestAlgorithm::sha256;
    case KNAST_DIGEST_SHA512: return knast::DigestAlgorithm::sha512;
    default:
      throw knast::Error(knast::ErrorCode::invalid_argument,
                         "unknown digest algorithm " + std::to_string(algorithm) +
                             ": use KNAST_DIGEST_SHA256 or KNAST_DIGEST_SHA512");
  }
}

uint32_t algorithm_to(knast::DigestAlgorithm algorithm) {
  return algorithm == knast::DigestAlgorithm::sha512 ? KNAST_DIGEST_SHA512 : KNAST_DIGEST_SHA256;
}

const char* c_str_or_null(const std::optional<std::string>& value) { return value ? value->c_str() : nullptr; }

}  // namespace

extern "C" {

knast_status knast_reference_parse(knast_reference** out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(text, "text");
    *out = new knast_reference(knast::Reference::parse(text));
  });
}

void knast_reference_free(knast_reference* ref) { delete ref; }
const char* knast_reference_string(const knast_reference* ref) { return ref ? ref->string.c_str() : nullptr; }
const char* knast_reference_name(const knast_reference* ref) { return ref ? ref->name.c_str() : nullptr; }
const char* knast_reference_domain(const knast_reference* ref) { return ref ? ref->ref.domain().c_str() : nullptr; }
const char* knast_reference_path(const knast_reference* ref) { return ref ? ref->ref.path().c_str() : nullptr; }
const char* knast_reference_tag(const knast_reference* ref) { return ref ? c_str_or_null(ref->ref.tag()) : nullptr; }
const char* knast_reference_digest(const knast_reference* ref) { return ref ? c_str_or_null(ref->digest) : nullptr; }
const char* knast_reference_familiar(const knast_reference* ref) { return ref ? ref->familiar.c_str() : nullptr; }

knast_status knast_digest_parse(knast_digest** out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(text, "text");
    *out = new knast_digest(knast::Digest::parse(text));
  });
}

knast_status knast_digest_of(knast_digest** out, uint32_t algorithm, const void* data, size_t size) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    if (size > 0) require(data, "data");
    std::string_view bytes(static_cast<const char*>(data), size);
    *out = new knast_digest(knast::Digest::of(bytes, algorithm_from(algorithm)));
  });
}

void knast_digest_free(knast_digest* digest) { delete digest; }
const char* knast_digest_string(const knast_digest* digest) { return digest ? digest->string.c_str() : nullptr; }
const char* knast_digest_hex(const knast_digest* digest) { return digest ? digest->digest.hex().c_str() : nullptr; }
uint32_t knast_digest_algorithm_of(const knast_digest* digest) {
  return digest ? algorithm_to(digest->digest.algorithm()) : 0;
}

knast_status knast_hasher_new(knast_hasher** out, uint32_t algorithm) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = new knast_hasher{knast::Hasher(algorithm_from(algorithm))};
  });
}

knast_status knast_hasher_update(knast_hasher* hasher, const void* data, size_t size) {
  return guard([&] {
    require(hasher, "hasher");
    if (size > 0) require(data, "data");
    hasher->hasher.update(data, size);
  });
}

knast_status knast_hasher_finish(knast_digest** out, knast_hasher* hasher) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(hasher, "hasher");
    *out = new knast_digest(hasher->hasher.finish());
  });
}

void knast_hasher_free(knast_hasher* hasher) { delete hasher; }

knast_status knast_platform_host(char** out) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    *out = owned_string(knast::Platform::host().string());
  });
}

knast_status knast_platform_normalize(char** out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(text, "text");
    *out = owned_string(knast::Platform::parse(text).string());
  });
}

knast_status knast_platform_matches(int* out, const char* wanted, const char* candidate) {
  return guard([&] {
    require(out, "out");
    require(wanted, "wanted");
    require(candidate, "candidate");
    *out = knast::PlatformMatcher(knast::Platform::parse(wanted)).matches(knast::Platform::parse(candidate)) ? 1 : 0;
  });
}

knast_status knast_document_validate(char** summary, uint32_t kind, const void* data, size_t size) {
  return guard([&] {
    if (summary != nullptr) *summary = nullptr;
    if (size > 0) require(data, "data");
    knast::DocumentKind document_kind;
    switch (kind) {
      case KNAST_DOCUMENT_MANIFEST: document_kind = knast::DocumentKind::manifest; break;
      case KNAST_DOCUMENT_INDEX: document_kind = knast::DocumentKind::index; break;
      case KNAST_DOCUMENT_CONFIG: document_kind = knast::DocumentKind::config; break;
      default:
        throw knast::Error(knast::ErrorCode::invalid_argument, "unknown document kind " + std::to_string(kind));
    }
    std::string line = knast::validate_document(document_kind, std::string_view(static_cast<const char*>(data), size));
    if (summary != nullptr) *summary = owned_string(line);
  });
}

}  // extern "C"
