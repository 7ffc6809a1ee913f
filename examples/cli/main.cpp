// knast: a tiny docker-like command line over libknast.
//
// Exit status: 0 success, 1 a knast error (the message is printed), 2 a usage error.
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/layout.hpp>

#include <cstdlib>
#include <iostream>

namespace knast::cli {

std::filesystem::path Globals::state_root() const {
  if (!root.empty()) return root;
  return StateLayout::system_default().root();
}

ImageStore Globals::open_store() const { return ImageStore::open(StateLayout(state_root()).store()); }

}  // namespace knast::cli

int main(int argc, char** argv) {
  knast::cli::Globals globals;
  CLI::App app{"knast: run Docker/OCI images in FreeBSD jails (and Linux namespaces)", "knast"};
  app.require_subcommand(1);
  app.add_option("--root", globals.root, "State root (default: $KNAST_ROOT, else /var/db/knast or /var/lib/knast)")
      ->envname("KNAST_ROOT");
  knast::cli::add_core_commands(app, globals);
  knast::cli::add_image_commands(app, globals);
  knast::cli::add_registry_commands(app, globals);
  knast::cli::add_rootfs_commands(app, globals);
  knast::cli::add_layer_commands(app);
  knast::cli::add_linuxulator_commands(app, globals);
  knast::cli::add_container_commands(app, globals);
  knast::cli::add_network_commands(app, globals);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {  // a command's own exit code (run, exec: the container's)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);
    return status == 0 ? 0 : 2;
  } catch (const knast::Error& e) {
    std::cerr << "knast: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "knast: unexpected error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
