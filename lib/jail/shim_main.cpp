// knast-shim: the container supervisor Jail::create() starts (see jail/supervisor.hpp).
#include "jail/supervisor.hpp"

int main(int argc, char** argv) { return knast::detail::supervisor_main(argc, argv); }
