// A small rtnetlink (NETLINK_ROUTE) client: what the Linux network executor
// (network_linux.cpp) needs to make bridges and veth pairs, give them addresses and
// routes, and delete them — the kernel interface `ip` itself uses, without starting it.
//
// Every request carries NLM_F_ACK and its own sequence number; the kernel's answer
// (NLMSG_ERROR, 0 for success) is read back before the call returns, with the kernel's
// extended-ack text (NETLINK_EXT_ACK) when it gives one. A socket works in the network
// namespace it was created in, whatever thread uses it later: open_in_namespace() makes
// one in another namespace from a short-lived thread, so the caller's threads never move.
#pragma once

#include "core/unique_fd.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct nlmsghdr;

namespace knast::platform::netlink {

/// One request being built: the netlink header, the family header, then attributes
/// (nested ones with begin_nested()/end_nested()), each padded to NLA_ALIGNTO.
class Message {
 public:
  /// A request of @p type (RTM_NEWLINK, ...) with @p flags beside NLM_F_REQUEST | NLM_F_ACK.
  Message(std::uint16_t type, std::uint16_t flags);

  /// Appends the family header (ifinfomsg, ifaddrmsg, rtmsg) or any other fixed struct.
  template <typename Header>
  void put_struct(const Header& header) {
    append(&header, sizeof header);
  }
  /// Appends attribute @p type holding @p size bytes from @p data.
  void put(std::uint16_t type, const void* data, std::size_t size);
  /// Appends attribute @p type holding @p text and a terminating NUL.
  void put_string(std::uint16_t type, std::string_view text);
  /// Appends attribute @p type holding @p value.
  void put_u32(std::uint16_t type, std::uint32_t value) { put(type, &value, sizeof value); }
  /// Opens nested attribute @p type; returns where it starts, for end_nested().
  std::size_t begin_nested(std::uint16_t type);
  /// Closes the nested attribute begun at @p start (writes its length).
  void end_nested(std::size_t start);

  /// The finished bytes with @p sequence as the sequence number.
  const std::vector<unsigned char>& finish(std::uint32_t sequence);

 private:
  void append(const void* data, std::size_t size);
  void pad();
  std::vector<unsigned char> bytes_;
};

/// What the kernel answered to one request.
struct Answer {
  int error = 0;        ///< 0, or the errno it refused with.
  std::string message;  ///< Its extended-ack text, if it gave one ("Invalid prefix for given prefix length.").
};

/// A NETLINK_ROUTE socket. Move-only.
class Socket {
 public:
  /// A socket in the calling thread's network namespace. @throws Error (errno).
  static Socket open();
  /// A socket in the network namespace @p netns_fd (an open /proc/PID/ns/net), made from
  /// a thread that enters it and ends: the calling thread stays where it is.
  /// @throws Error (errno of socket(2) or setns(2)).
  static Socket open_in_namespace(int netns_fd);

  /// Sends @p message and reads until its acknowledgement; @p on_reply sees every other
  /// message answering it (e.g. the RTM_NEWLINK of an RTM_GETLINK). @throws Error (errno)
  /// when sending or receiving fails; the kernel's refusal is in the Answer.
  Answer transact(Message& message, const std::function<void(const nlmsghdr&)>& on_reply = {});

 private:
  explicit Socket(knast::detail::UniqueFd fd) : fd_(std::move(fd)) {}
  knast::detail::UniqueFd fd_;
  std::uint32_t sequence_ = 0;
};

// ---- Operations (each one request; failures throw Error with the errno and the kernel's text) ----

/// The index of link @p name (RTM_GETLINK by name). @throws Error not_found (ENODEV).
int link_index(Socket& socket, const std::string& name);

/// Creates bridge @p name (IFLA_INFO_KIND "bridge"). Returns false when it exists already.
bool add_bridge(Socket& socket, const std::string& name);

/// A veth pair to create.
struct VethPair {
  std::string name;          ///< This end, in the socket's namespace.
  std::string peer_name;     ///< The other end, in @ref peer_netns_fd's namespace.
  int peer_netns_fd = -1;    ///< Where the peer is created (IFLA_NET_NS_FD); -1: beside this end.
  int master = 0;            ///< This end joins the bridge of this index (0: none).
  bool up = false;           ///< This end is brought up.
};
/// Creates @p pair (fails with EEXIST when its name is taken).
void add_veth(Socket& socket, const VethPair& pair);

/// A change to an existing link.
struct LinkChange {
  int index = 0;     ///< The link; 0: the one called @ref name.
  std::string name;  ///< With an index: its new name (empty: unchanged).
  int master = 0;    ///< Joins the bridge of this index (0: unchanged).
  bool up = false;   ///< Brought up (false: left as it is).
};
/// Applies @p change (RTM_NEWLINK without NLM_F_CREATE).
void set_link(Socket& socket, const LinkChange& change);

/// Deletes link @p name; its veth peer goes with it. Returns false when it is gone already (ENODEV).
bool delete_link(Socket& socket, const std::string& name);

/// Adds @p address/@p prefix_length to link @p index (IFA_LOCAL and IFA_ADDRESS). Returns
/// false when the link has it already (EEXIST).
bool add_address(Socket& socket, int index, in_addr address, int prefix_length);

/// Adds the IPv4 default route via @p gateway on link @p index (main table).
void add_default_route(Socket& socket, int index, in_addr gateway);

}  // namespace knast::platform::netlink
