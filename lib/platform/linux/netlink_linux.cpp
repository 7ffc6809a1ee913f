// The rtnetlink client of netlink_linux.hpp.
#include "platform/linux/netlink_linux.hpp"

#include <knast/error.hpp>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

namespace knast::platform::netlink {
namespace {

using knast::detail::UniqueFd;

// NLMSG_ALIGNTO and NLA_ALIGNTO are both 4. (The kernel header's macros are written with
// C casts, which this project's warnings refuse: these do the same arithmetic.)
constexpr std::size_t align(std::size_t size) { return (size + NLA_ALIGNTO - 1) & ~std::size_t{NLA_ALIGNTO - 1}; }
constexpr std::size_t header_length = align(sizeof(nlmsghdr));

// What follows the netlink header of @p header (NLMSG_DATA).
template <typename Payload>
const Payload* payload(const nlmsghdr& header) {
  return reinterpret_cast<const Payload*>(reinterpret_cast<const unsigned char*>(&header) + header_length);
}

// The text of an Error: what was asked, and the kernel's own words when it gave some.
std::string describe(const std::string& what, const Answer& answer) {
  return answer.message.empty() ? what : what + " (kernel: " + answer.message + ")";
}

void check(const Answer& answer, const std::string& what) {
  if (answer.error != 0) throw Error(answer.error, describe(what, answer));
}

// The extended-ack message after an NLMSG_ERROR's struct nlmsgerr, if there is one.
std::string extended_ack_text(const nlmsghdr& header) {
  if ((header.nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  const auto* error = payload<nlmsgerr>(header);
  std::size_t offset = sizeof(nlmsgerr);
  if ((header.nlmsg_flags & NLM_F_CAPPED) == 0) offset += error->msg.nlmsg_len - header_length;
  offset = align(offset);
  const auto* base = payload<unsigned char>(header);
  const std::size_t end = header.nlmsg_len - header_length;
  while (offset + sizeof(nlattr) <= end) {
    nlattr attribute{};
    std::memcpy(&attribute, base + offset, sizeof attribute);
    if (attribute.nla_len < sizeof attribute || offset + attribute.nla_len > end) break;
    if (attribute.nla_type == NLMSGERR_ATTR_MSG) {
      const auto* text = reinterpret_cast<const char*>(base + offset + sizeof attribute);
      return std::string(text, ::strnlen(text, attribute.nla_len - sizeof attribute));
    }
    offset += align(attribute.nla_len);
  }
  return {};
}

ifinfomsg link_header(int index = 0) {
  ifinfomsg header{};
  header.ifi_family = AF_UNSPEC;
  header.ifi_index = index;
  return header;
}

}  // namespace

// ---- Message ----------------------------------------------------------------------------

Message::Message(std::uint16_t type, std::uint16_t flags) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  append(&header, sizeof header);
}

void Message::append(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
  pad();
}

void Message::pad() { bytes_.resize(align(bytes_.size()), 0); }

void Message::put(std::uint16_t type, const void* data, std::size_t size) {
  nlattr attribute{};
  attribute.nla_type = type;
  attribute.nla_len = static_cast<std::uint16_t>(sizeof attribute + size);
  const auto* header = reinterpret_cast<const unsigned char*>(&attribute);
  bytes_.insert(bytes_.end(), header, header + sizeof attribute);
  append(data, size);
}

void Message::put_string(std::uint16_t type, std::string_view text) {
  std::string terminated(text);
  put(type, terminated.c_str(), terminated.size() + 1);
}

std::size_t Message::begin_nested(std::uint16_t type) {
  const std::size_t start = bytes_.size();
  put(type, nullptr, 0);
  return start;
}

void Message::end_nested(std::size_t start) {
  nlattr attribute{};
  std::memcpy(&attribute, bytes_.data() + start, sizeof attribute);
  attribute.nla_len = static_cast<std::uint16_t>(bytes_.size() - start);
  std::memcpy(bytes_.data() + start, &attribute, sizeof attribute);
}

const std::vector<unsigned char>& Message::finish(std::uint32_t sequence) {
  nlmsghdr header{};
  std::memcpy(&header, bytes_.data(), sizeof header);
  header.nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
  header.nlmsg_seq = sequence;
  std::memcpy(bytes_.data(), &header, sizeof header);
  return bytes_;
}

// ---- Socket -----------------------------------------------------------------------------

Socket Socket::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw Error(errno, "open a netlink socket (NETLINK_ROUTE)");
  // The kernel's reason in words with each refusal, without echoing our request back.
  // Both are best effort: an old kernel without them still answers with the errno.
  const int on = 1;
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  return Socket(std::move(fd));
}

Socket Socket::open_in_namespace(int netns_fd) {
  // The network namespace is a property of the thread: this one enters it, makes the
  // socket (which stays in that namespace for good) and ends, taking the change with it.
  std::exception_ptr failure;
  UniqueFd fd;
  std::thread([&] {
    try {
      if (::setns(netns_fd, CLONE_NEWNET) != 0) throw Error(errno, "enter the container's network namespace (setns)");
      fd = open().fd_;
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
  return Socket(std::move(fd));
}

Answer Socket::transact(Message& message, const std::function<void(const nlmsghdr&)>& on_reply) {
  const std::uint32_t sequence = ++sequence_;
  const auto& request = message.finish(sequence);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) < 0)
    throw Error(errno, "send a netlink request");
  // Big enough for any one answer to a single-object request (a link with its statistics).
  alignas(nlmsghdr) static thread_local unsigned char buffer[64 * 1024];
  for (;;) {
    const ssize_t received = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      throw Error(errno, "read a netlink answer");
    }
    const auto size = static_cast<std::size_t>(received);
    for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
      const auto* header = reinterpret_cast<const nlmsghdr*>(buffer + offset);
      if (header->nlmsg_len < sizeof(nlmsghdr) || offset + header->nlmsg_len > size) break;
      offset += align(header->nlmsg_len);
      if (header->nlmsg_seq != sequence) continue;  // a late answer to an earlier request
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto* error = payload<nlmsgerr>(*header);
        return Answer{-error->error, error->error == 0 ? std::string() : extended_ack_text(*header)};
      }
      if (on_reply) on_reply(*header);
    }
  }
}

// ---- Operations -------------------------------------------------------------------------

int link_index(Socket& socket, const std::string& name) {
  Message message(RTM_GETLINK, 0);
  message.put_struct(link_header());
  message.put_string(IFLA_IFNAME, name);
  int index = 0;
  const auto answer = socket.transact(message, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type == RTM_NEWLINK) index = payload<ifinfomsg>(reply)->ifi_index;
  });
  check(answer, "look up the network interface " + name);
  if (index == 0) throw Error(ENODEV, "look up the network interface " + name + ": the kernel named no index");
  return index;
}

bool add_bridge(Socket& socket, const std::string& name) {
  Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  message.put_struct(link_header());
  message.put_string(IFLA_IFNAME, name);
  const auto info = message.begin_nested(IFLA_LINKINFO);
  message.put_string(IFLA_INFO_KIND, "bridge");
  message.end_nested(info);
  const auto answer = socket.transact(message);
  if (answer.error == EEXIST) return false;
  check(answer, "create the bridge " + name);
  return true;
}

void add_veth(Socket& socket, const VethPair& pair) {
  Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto header = link_header();
  if (pair.up) header.ifi_flags = header.ifi_change = IFF_UP;
  message.put_struct(header);
  message.put_string(IFLA_IFNAME, pair.name);
  if (pair.master != 0) message.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(pair.master));
  const auto info = message.begin_nested(IFLA_LINKINFO);
  message.put_string(IFLA_INFO_KIND, "veth");
  const auto data = message.begin_nested(IFLA_INFO_DATA);
  // The peer: its own ifinfomsg, then its attributes, inside VETH_INFO_PEER.
  const auto peer = message.begin_nested(VETH_INFO_PEER);
  message.put_struct(link_header());
  message.put_string(IFLA_IFNAME, pair.peer_name);
  if (pair.peer_netns_fd >= 0) message.put_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(pair.peer_netns_fd));
  message.end_nested(peer);
  message.end_nested(data);
  message.end_nested(info);
  check(socket.transact(message), "create the veth pair " + pair.name + " / " + pair.peer_name);
}

void set_link(Socket& socket, const LinkChange& change) {
  Message message(RTM_NEWLINK, 0);
  auto header = link_header(change.index);
  if (change.up) header.ifi_flags = header.ifi_change = IFF_UP;
  message.put_struct(header);
  if (!change.name.empty()) message.put_string(IFLA_IFNAME, change.name);
  if (change.master != 0) message.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(change.master));
  const std::string which = change.index == 0 ? change.name : "#" + std::to_string(change.index);
  check(socket.transact(message), "configure the network interface " + which);
}

bool delete_link(Socket& socket, const std::string& name) {
  Message message(RTM_DELLINK, 0);
  message.put_struct(link_header());
  message.put_string(IFLA_IFNAME, name);
  const auto answer = socket.transact(message);
  if (answer.error == ENODEV) return false;
  check(answer, "delete the network interface " + name);
  return true;
}

bool add_address(Socket& socket, int index, in_addr address, int prefix_length) {
  Message message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg header{};
  header.ifa_family = AF_INET;
  header.ifa_prefixlen = static_cast<unsigned char>(prefix_length);
  header.ifa_index = static_cast<unsigned>(index);
  message.put_struct(header);
  message.put(IFA_LOCAL, &address, sizeof address);
  message.put(IFA_ADDRESS, &address, sizeof address);
  const auto answer = socket.transact(message);
  if (answer.error == EEXIST) return false;
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address, text, sizeof text);
  check(answer, "add the address " + std::string(text) + "/" + std::to_string(prefix_length) +
                    " to network interface #" + std::to_string(index));
  return true;
}

void add_default_route(Socket& socket, int index, in_addr gateway) {
  Message message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg header{};
  header.rtm_family = AF_INET;
  header.rtm_table = RT_TABLE_MAIN;
  header.rtm_protocol = RTPROT_BOOT;
  header.rtm_scope = RT_SCOPE_UNIVERSE;
  header.rtm_type = RTN_UNICAST;
  message.put_struct(header);
  message.put(RTA_GATEWAY, &gateway, sizeof gateway);
  message.put_u32(RTA_OIF, static_cast<std::uint32_t>(index));
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &gateway, text, sizeof text);
  check(socket.transact(message), "add the default route via " + std::string(text));
}

}  // namespace knast::platform::netlink
