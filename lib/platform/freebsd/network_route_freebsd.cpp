// Routing-socket messages of the FreeBSD network executor (route(4), FREEBSD.md §7): the
// default route of a container's vnet (RTM_ADD, written from the child attached to the
// jail) and the host's default-route interface (RTM_GET with RTA_IFP, as `route -n get
// default` asks). A message is a struct rt_msghdr followed by the sockaddrs of its
// rtm_addrs bits in bit order, each padded to SA_SIZE() (a multiple of sizeof(long)).
#include "platform/freebsd/network_kernel_freebsd.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <sys/socket.h>  // before net/route.h
#include <sys/time.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

namespace knast::platform::freebsd {
namespace {

// Replies come to every routing socket; ours are told apart by pid and sequence number.
std::atomic<int> next_sequence{1};

// How long a lookup waits for the kernel's reply (it comes at once; this only bounds a bug).
constexpr timeval reply_timeout{2, 0};

// errno is passed by value, before the message is built (building it may change errno).
[[noreturn]] void fail(int err, const char* what) { throw Error(err, std::string(what) + ": " + std::strerror(err)); }

sockaddr_in inet_sockaddr(in_addr address) noexcept {
  sockaddr_in sa{};
  sa.sin_len = sizeof(sockaddr_in);
  sa.sin_family = AF_INET;
  sa.sin_addr = address;
  return sa;
}

// RTM_ADD 0.0.0.0/0 via a gateway: destination, gateway, netmask (RTA bit order). Every
// part is a multiple of sizeof(long) long, so the struct has no padding between them.
struct AddRouteMessage {
  rt_msghdr header;
  sockaddr_in destination;
  sockaddr_in gateway;
  sockaddr_in netmask;
};
static_assert(sizeof(rt_msghdr) % sizeof(long) == 0 && sizeof(sockaddr_in) % sizeof(long) == 0);
static_assert(sizeof(AddRouteMessage) == sizeof(rt_msghdr) + 3 * sizeof(sockaddr_in));

// RTM_GET 0.0.0.0/0 (a netmask asks for that exact prefix, not a longest match), with an
// empty link-level sockaddr under RTA_IFP that asks for the route's interface.
struct GetRouteMessage {
  rt_msghdr header;
  sockaddr_in destination;
  sockaddr_in netmask;
  sockaddr_dl interface;
};
static_assert(offsetof(GetRouteMessage, interface) == sizeof(rt_msghdr) + 2 * sizeof(sockaddr_in));

// Where the sockaddrs of a received message start and end.
struct ReplyAddresses {
  const char* begin;
  const char* end;
  int present;  // rtm_addrs
};

// The interface name under RTA_IFP of a reply, or "" when it has none.
std::string interface_in(const ReplyAddresses& addresses) {
  const char* at = addresses.begin;
  for (int bit = 0; bit < RTAX_MAX && at < addresses.end; ++bit) {
    if ((addresses.present & (1 << bit)) == 0) continue;
    const auto* sa = reinterpret_cast<const sockaddr*>(at);
    if (at + sizeof(sa->sa_len) > addresses.end || at + sa->sa_len > addresses.end) break;
    if (bit == RTAX_IFP && sa->sa_family == AF_LINK) {
      const auto* link = reinterpret_cast<const sockaddr_dl*>(sa);
      if (offsetof(sockaddr_dl, sdl_data) + link->sdl_nlen > link->sdl_len) break;
      return std::string(link->sdl_data, link->sdl_nlen);
    }
    at += SA_SIZE(sa);
  }
  return {};
}

GetRouteMessage default_route_query(int sequence) {
  GetRouteMessage message{};
  message.header.rtm_msglen = sizeof message;
  message.header.rtm_version = RTM_VERSION;
  message.header.rtm_type = RTM_GET;
  message.header.rtm_flags = RTF_UP | RTF_GATEWAY;
  message.header.rtm_addrs = RTA_DST | RTA_NETMASK | RTA_IFP;
  message.header.rtm_seq = sequence;
  message.destination = inet_sockaddr(in_addr{});
  message.netmask = inet_sockaddr(in_addr{});
  message.interface.sdl_len = sizeof message.interface;
  message.interface.sdl_family = AF_LINK;
  return message;
}

}  // namespace

int add_default_route(in_addr gateway) noexcept {
  const int s = ::socket(PF_ROUTE, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  AddRouteMessage message{};
  message.header.rtm_msglen = sizeof message;
  message.header.rtm_version = RTM_VERSION;
  message.header.rtm_type = RTM_ADD;
  message.header.rtm_flags = RTF_UP | RTF_GATEWAY | RTF_STATIC;
  message.header.rtm_addrs = RTA_DST | RTA_GATEWAY | RTA_NETMASK;
  message.header.rtm_seq = 1;
  message.destination = inet_sockaddr(in_addr{});
  message.gateway = inet_sockaddr(gateway);
  message.netmask = inet_sockaddr(in_addr{});
  const ssize_t written = ::write(s, &message, sizeof message);
  const int err = written == static_cast<ssize_t>(sizeof message) ? 0 : (written < 0 ? errno : EIO);
  ::close(s);
  return err;
}

std::string default_route_interface_name() {
  detail::UniqueFd s(::socket(PF_ROUTE, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!s) fail(errno, "socket(PF_ROUTE) to look up the default route");
  if (::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &reply_timeout, sizeof reply_timeout) != 0)
    fail(errno, "setsockopt(SO_RCVTIMEO) on a routing socket");
  const int sequence = next_sequence.fetch_add(1);
  const GetRouteMessage query = default_route_query(sequence);
  if (::write(s.get(), &query, sizeof query) < 0) {
    if (errno == ESRCH) return {};  // no default route
    fail(errno, "routing socket RTM_GET of the default route");
  }
  alignas(rt_msghdr) char reply[2048];
  for (;;) {
    const ssize_t got = ::read(s.get(), reply, sizeof reply);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(errno, "reading the routing socket's answer about the default route");
    if (got < static_cast<ssize_t>(sizeof(rt_msghdr))) continue;
    const auto* header = reinterpret_cast<const rt_msghdr*>(reply);
    if (header->rtm_type != RTM_GET || header->rtm_seq != sequence || header->rtm_pid != ::getpid()) continue;
    if (header->rtm_errno == ESRCH) return {};
    if (header->rtm_errno != 0) fail(header->rtm_errno, "routing socket RTM_GET of the default route");
    const std::size_t length = std::min<std::size_t>(header->rtm_msglen, static_cast<std::size_t>(got));
    return interface_in({reply + sizeof(rt_msghdr), reply + length, header->rtm_addrs});
  }
}

}  // namespace knast::platform::freebsd
