// nftables through libnftables, loaded the first time a firewall table is changed.
//
// libknast does not link libnftables (nor its libnftnl, libmnl, libjansson, libgmp,
// libedit): a program that never makes a bridge network does not pay for loading them,
// and a host without them fails only the calls that need them, with a clear error. The
// same approach as lib/registry/curl_api.hpp for libcurl.
#pragma once

#include <string>

namespace knast::platform::nftables {

/// Runs @p script (nft syntax; several commands are one transaction: all or nothing).
/// @throws Error unsupported when libnftables.so.1 cannot be loaded (install libnftables1),
///         io with nft's own message when the script is refused.
void run(const std::string& script);

}  // namespace knast::platform::nftables
