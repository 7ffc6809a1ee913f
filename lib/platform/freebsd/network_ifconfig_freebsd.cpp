// Interface ioctls of the FreeBSD network executor (FREEBSD.md §7; epair(4),
// if_bridge(4), netintro(4)): what ifconfig(8) does, on the caller's socket, so that a
// child attached to a vnet jail can run them in the jail's stack. Every kernel struct is
// zero-initialised and every sockaddr carries its sin_len.
#include "platform/freebsd/network_kernel_freebsd.hpp"

#include <knast/error.hpp>

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <net/if.h>
#include <net/ethernet.h>  // before if_bridgevar.h, which uses its types
#include <net/if_bridgevar.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <ifaddrs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace knast::platform::freebsd {
namespace {

void copy_name(char (&to)[IFNAMSIZ], const InterfaceName& name) noexcept {
  std::memcpy(to, name.text, IFNAMSIZ);
}

ifreq request_for(const InterfaceName& name) noexcept {
  ifreq request{};
  copy_name(request.ifr_name, name);
  return request;
}

sockaddr_in inet_sockaddr(in_addr address) noexcept {
  sockaddr_in sa{};
  sa.sin_len = sizeof(sockaddr_in);  // without it the kernel refuses (EINVAL)
  sa.sin_family = AF_INET;
  sa.sin_addr = address;
  return sa;
}

in_addr netmask(int prefix_length) noexcept {
  in_addr mask{};
  mask.s_addr = prefix_length <= 0 ? 0 : htonl(~std::uint32_t{0} << (32 - prefix_length));
  return mask;
}

int result(int rc) noexcept { return rc == 0 ? 0 : errno; }

}  // namespace

InterfaceName interface_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('\0') != std::string::npos)
    throw Error(ErrorCode::invalid_argument,
                "interface name \"" + name + "\": FreeBSD interface names hold 1 to 15 characters");
  InterfaceName out;
  std::memcpy(out.text, name.data(), name.size());
  return out;
}

detail::UniqueFd interface_socket() {
  detail::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) {
    const int err = errno;
    throw Error(err, std::string("socket(AF_INET) for interface ioctls: ") + std::strerror(err));
  }
  return s;
}

bool has_ipv4_address(const InterfaceName& name, in_addr address) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    const int err = errno;
    throw Error(err, std::string("getifaddrs: ") + std::strerror(err));
  }
  bool found = false;
  for (const ifaddrs* entry = list; entry != nullptr && !found; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    const auto* sa = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    found = std::strncmp(entry->ifa_name, name.text, IFNAMSIZ) == 0 && sa->sin_addr.s_addr == address.s_addr;
  }
  ::freeifaddrs(list);
  return found;
}

int create_interface(int s, InterfaceName& name) noexcept {
  ifreq request = request_for(name);
  if (::ioctl(s, SIOCIFCREATE2, &request) != 0) return errno;
  name = InterfaceName{};
  std::memcpy(name.text, request.ifr_name, IFNAMSIZ - 1);  // the kernel's choice, "epair3a"
  return 0;
}

int destroy_interface(int s, const InterfaceName& name) noexcept {
  ifreq request = request_for(name);
  return result(::ioctl(s, SIOCIFDESTROY, &request));
}

int rename_interface(int s, const InterfaceName& from, const InterfaceName& to) noexcept {
  InterfaceName new_name = to;  // the kernel copies the name in from ifr_data
  ifreq request = request_for(from);
  request.ifr_data = new_name.text;
  return result(::ioctl(s, SIOCSIFNAME, &request));
}

int set_interface_up(int s, const InterfaceName& name) noexcept {
  ifreq request = request_for(name);
  if (::ioctl(s, SIOCGIFFLAGS, &request) != 0) return errno;
  if (request.ifr_flags & IFF_UP) return 0;
  // ifr_flags is the low 16 bits; ifr_flagshigh, read above, goes back unchanged.
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  return result(::ioctl(s, SIOCSIFFLAGS, &request));
}

int add_ipv4_address(int s, const InterfaceName& name, in_addr address, int prefix_length) noexcept {
  in_aliasreq request{};  // ifra_vhid 0: no CARP
  copy_name(request.ifra_name, name);
  request.ifra_addr = inet_sockaddr(address);
  request.ifra_mask = inet_sockaddr(netmask(prefix_length));
  // ifra_broadaddr stays zero: the kernel derives the broadcast address from the mask.
  return result(::ioctl(s, SIOCAIFADDR, &request));
}

int delete_ipv4_address(int s, const InterfaceName& name, in_addr address) noexcept {
  ifreq request = request_for(name);
  const sockaddr_in sa = inet_sockaddr(address);
  static_assert(sizeof sa <= sizeof request.ifr_addr);
  std::memcpy(&request.ifr_addr, &sa, sizeof sa);
  return result(::ioctl(s, SIOCDIFADDR, &request));
}

int add_bridge_member(int s, const InterfaceName& bridge, const InterfaceName& member) noexcept {
  ifbreq add{};
  copy_name(add.ifbr_ifsname, member);
  ifdrv request{};
  copy_name(request.ifd_name, bridge);
  request.ifd_cmd = BRDGADD;
  request.ifd_len = sizeof add;
  request.ifd_data = &add;
  return result(::ioctl(s, SIOCSDRVSPEC, &request));
}

int move_interface_to_jail(int s, InterfaceName& name, int jid) noexcept {
  ifreq request = request_for(name);
  request.ifr_jid = jid;
  if (::ioctl(s, SIOCSIFVNET, &request) != 0) return errno;
  name = InterfaceName{};
  std::memcpy(name.text, request.ifr_name, IFNAMSIZ - 1);  // its name inside the jail
  return 0;
}

// Whether the first IPv4 address of @p name (SIOCGIFADDR) is @p address.
bool first_ipv4_address_is(int s, const InterfaceName& name, in_addr address) noexcept {
  ifreq request = request_for(name);
  if (::ioctl(s, SIOCGIFADDR, &request) != 0) return false;  // EADDRNOTAVAIL: none
  sockaddr_in held{};
  std::memcpy(&held, &request.ifr_addr, sizeof held);
  return held.sin_family == AF_INET && held.sin_addr.s_addr == address.s_addr;
}

int configure_loopback(int s) noexcept {
  InterfaceName lo0{};
  std::memcpy(lo0.text, "lo0", 3);
  in_addr loopback{};
  loopback.s_addr = htonl(INADDR_LOOPBACK);
  // SIOCAIFADDR of an address the interface holds deletes and re-adds it: only when missing.
  if (!first_ipv4_address_is(s, lo0, loopback))
    if (const int err = add_ipv4_address(s, lo0, loopback, 8); err != 0 && err != EEXIST) return err;
  return set_interface_up(s, lo0);
}

}  // namespace knast::platform::freebsd
