// libnftables, looked up with dlopen(3)/dlsym(3) on first use (nftables_linux.hpp).
#include "platform/linux/nftables_linux.hpp"

#include "core/shared_library.hpp"

#include <knast/error.hpp>

#include <nftables/libnftables.h>

#include <memory>
#include <mutex>

namespace knast::platform::nftables {
namespace {

// The soname of libnftables' ABI 1 (Debian: libnftables1).
constexpr const char* library = "libnftables.so.1";

// The functions knast calls, typed by the header's own declarations.
struct Api {
  decltype(&::nft_ctx_new) ctx_new;
  decltype(&::nft_ctx_free) ctx_free;
  decltype(&::nft_ctx_buffer_output) buffer_output;
  decltype(&::nft_ctx_buffer_error) buffer_error;
  decltype(&::nft_ctx_get_error_buffer) get_error_buffer;
  decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer;
};

template <typename Function>
void look_up(void* handle, Function& out, const char* name) {
  detail::look_up(handle, out, name, library);
}

Api load() {
  void* handle = detail::open_shared_library(library, ErrorCode::unsupported, "nftables rules need libnftables",
                                             "Debian: apt-get install libnftables1");
  Api api{};
  look_up(handle, api.ctx_new, "nft_ctx_new");
  look_up(handle, api.ctx_free, "nft_ctx_free");
  look_up(handle, api.buffer_output, "nft_ctx_buffer_output");
  look_up(handle, api.buffer_error, "nft_ctx_buffer_error");
  look_up(handle, api.get_error_buffer, "nft_ctx_get_error_buffer");
  look_up(handle, api.run_cmd_from_buffer, "nft_run_cmd_from_buffer");
  return api;
}

const Api& api() {
  static std::once_flag once;
  static Api loaded{};
  std::call_once(once, [] { loaded = load(); });  // a throw leaves the flag unset: the next call retries
  return loaded;
}

}  // namespace

void run(const std::string& script) {
  const Api& nft = api();
  // libnftables keeps some state outside its contexts (its caches of the kernel's
  // ruleset are per context, but not everything is documented as thread-safe): one
  // script at a time per process.
  static std::mutex serial;
  const std::lock_guard lock(serial);
  const std::unique_ptr<nft_ctx, decltype(nft.ctx_free)> context(nft.ctx_new(NFT_CTX_DEFAULT), nft.ctx_free);
  if (!context) throw Error(ErrorCode::internal, "nft_ctx_new failed");
  // Buffered: nft writes nothing to the caller's stdout or stderr, and its error text
  // (which line, what it expected) goes into the Error.
  if (nft.buffer_output(context.get()) != 0 || nft.buffer_error(context.get()) != 0)
    throw Error(ErrorCode::internal, "buffer the output of libnftables");
  if (nft.run_cmd_from_buffer(context.get(), script.c_str()) != 0) {
    const char* buffered = nft.get_error_buffer(context.get());
    std::string text = buffered == nullptr ? "" : buffered;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    // nft's text names the line and marks the place with carets; it is kept as it is.
    throw Error(ErrorCode::io, "nftables refused the rules: " + (text.empty() ? "no reason given" : text));
  }
}

}  // namespace knast::platform::nftables
