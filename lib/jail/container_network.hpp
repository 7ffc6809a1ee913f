// How Jail::create() puts a new container on a network (JailOptions::network): the
// checks, the endpoint (lib/network/network_state.hpp), the files the container sees at
// /etc/hosts and /etc/resolv.conf, and what a FreeBSD `shared` network changes in the
// jail's parameters. The wiring itself happens later, in the supervisor.
#pragma once

#include "jail/container_dir.hpp"

#include <knast/jail.hpp>

#include <filesystem>

namespace knast {
inline namespace v0 {
namespace detail {

/// The spec of a container made with @p options: @p spec itself when it joins no
/// network; otherwise the endpoint is recorded (so remove it with leave_network() if
/// creation fails later), `resolv.conf` is written into @p dir, and the returned spec
/// bind-mounts the network's hosts file and that resolv.conf read-only.
/// @throws Error invalid_argument (ports without a network; a network with a spec that
///         shares the host's stack), and what join_network() throws.
RunSpec join_container_network(const JailOptions& options, const ContainerDir& dir, RunSpec spec);

}  // namespace detail
}  // namespace v0
}  // namespace knast
