// Other systems: no container executor; every entry point says so.
#include "platform/container.hpp"

#include <knast/error.hpp>

namespace knast::platform {
namespace {

[[noreturn]] void refuse(const std::string& id) {
  throw Error(ErrorCode::unsupported, "container " + id + ": knast has no container executor for this OS");
}

}  // namespace

std::unique_ptr<Container> create_container(const ContainerLaunch& launch) { refuse(launch.id); }
pid_t exec_in_container(const ExecLaunch& launch) { refuse(launch.id); }
void signal_container(const std::string& id, pid_t, int) { refuse(id); }
void destroy_container(const std::string&, pid_t, const RunSpec&) {}

}  // namespace knast::platform
