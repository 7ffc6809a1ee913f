// Registry commands: pull, push, login, logout, tags — with a docker-like progress display
// (one line per blob, redrawn in place on a terminal; plain lines otherwise).
#include "cli.hpp"

#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/layout.hpp>
#include <knast/registry.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>

namespace knast::cli {
namespace {

/// Flags every registry command takes.
struct RegistryFlags {
  std::vector<std::string> insecure;
  std::string ca_file;
  std::string docker_config;
};

void add_registry_flags(CLI::App* cmd, RegistryFlags& flags) {
  cmd->add_option("--insecure-registry", flags.insecure, "Registry that may be reached over plain HTTP (repeatable)");
  cmd->add_option("--ca-file", flags.ca_file, "PEM bundle of certificate authorities to trust");
  cmd->add_option("--config", flags.docker_config, "docker config.json with credentials (default: ~/.docker/config.json)")
      ->envname("KNAST_DOCKER_CONFIG");
}

Registry make_registry(const RegistryFlags& flags) {
  RegistryOptions options;
  options.insecure_registries = flags.insecure;
  if (!flags.ca_file.empty()) options.ca_file = flags.ca_file;
  if (!flags.docker_config.empty()) options.docker_config = flags.docker_config;
  return Registry(std::move(options));
}

std::string megabytes(std::uint64_t bytes) { return fmt::format("{:.1f}MB", static_cast<double>(bytes) / 1e6); }

std::string_view state_word(TransferState state, bool pushing) {
  switch (state) {
    case TransferState::queued: return "Waiting";
    case TransferState::transferring: return pushing ? "Pushing" : "Downloading";
    case TransferState::skipped: return pushing ? "Layer already exists" : "Already exists";
    case TransferState::mounted: return "Mounted from another repository";
    case TransferState::done: return pushing ? "Pushed" : "Pull complete";
  }
  return "";
}

/// Shows progress like docker: on a terminal one line per blob, redrawn in place; else a
/// line each time a blob changes state.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool pushing) : pushing_(pushing), terminal_(isatty(STDOUT_FILENO) == 1) {}

  bool operator()(const Progress& p) {
    const std::string id = p.digest.hex().substr(0, 12);
    auto [it, added] = lines_.try_emplace(id, Line{order_.size(), p.state, ""});
    if (added) order_.push_back(id);
    const bool changed = added || it->second.state != p.state;
    it->second.state = p.state;
    it->second.text = format_line(id, p);
    if (terminal_) {
      redraw();
    } else if (changed && p.state != TransferState::queued) {
      std::cout << it->second.text << '\n';
    }
    return true;
  }

 private:
  struct Line {
    std::size_t row;
    TransferState state;
    std::string text;
  };

  std::string format_line(const std::string& id, const Progress& p) const {
    std::string line = fmt::format("{}: {}", id, state_word(p.state, pushing_));
    if (p.state == TransferState::transferring && p.bytes_total > 0)
      line += fmt::format(" {}/{}", megabytes(p.bytes_done), megabytes(p.bytes_total));
    return line;
  }

  void redraw() {
    if (drawn_ > 0) std::cout << fmt::format("\x1b[{}A", drawn_);
    for (const auto& id : order_) std::cout << "\x1b[2K" << lines_[id].text << '\n';
    drawn_ = order_.size();
    std::cout.flush();
  }

  bool pushing_;
  bool terminal_;
  std::map<std::string, Line> lines_;
  std::vector<std::string> order_;
  std::size_t drawn_ = 0;
};

void add_pull(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("pull", "Pull an image from a registry into the store");
  auto flags = std::make_shared<RegistryFlags>();
  auto reference = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  add_registry_flags(cmd, *flags);
  cmd->add_option("--platform", *platform, "Platform to pull from a multi-platform image (default: this host's)");
  cmd->add_flag("-a,--all-platforms", *all, "Pull every platform");
  cmd->add_flag("-q,--quiet", *quiet, "No progress display");
  cmd->add_option("reference", *reference, "Image reference")->required();
  cmd->callback([&globals, flags, reference, platform, all, quiet] {
    Reference ref = Reference::parse(*reference);
    ImageStore store = globals.open_store();
    PullOptions options;
    if (!platform->empty()) options.platform = Platform::parse(*platform);
    options.all_platforms = *all;
    auto display = std::make_shared<ProgressDisplay>(false);
    if (!*quiet) {
      std::cout << ref.tag().value_or("latest") << ": Pulling from " << ref.familiar_name() << '\n';
      options.progress = [display](const Progress& p) { return (*display)(p); };
    }
    PullResult result = make_registry(*flags).pull(ref, store, options);
    if (!*quiet) std::cout << "Digest: " << result.target.digest.string() << '\n';
    std::cout << (*quiet ? ref.string() : "Status: Downloaded newer image for " + ref.familiar()) << '\n';
  });
}

void add_push(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("push", "Push an image from the store to a registry");
  auto flags = std::make_shared<RegistryFlags>();
  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  add_registry_flags(cmd, *flags);
  cmd->add_flag("-q,--quiet", *quiet, "No progress display");
  cmd->add_option("source", *source, "Image in the store")->required();
  cmd->add_option("destination", *destination, "Where to push it (default: the same name)");
  cmd->callback([&globals, flags, source, destination, quiet] {
    Reference from = Reference::parse(*source);
    Reference to = destination->empty() ? from : Reference::parse(*destination);
    ImageStore store = globals.open_store();
    PushOptions options;
    auto display = std::make_shared<ProgressDisplay>(true);
    if (!*quiet) options.progress = [display](const Progress& p) { return (*display)(p); };
    PushResult result = make_registry(*flags).push(store, from, to, options);
    std::cout << to.tag().value_or("") << ": digest: " << result.target.digest.string()
              << " size: " << result.target.size << '\n';
  });
}

void add_login(CLI::App& app) {
  auto* cmd = app.add_subcommand("login", "Check credentials for a registry and store them");
  auto flags = std::make_shared<RegistryFlags>();
  auto registry = std::make_shared<std::string>("docker.io");
  auto username = std::make_shared<std::string>();
  auto password = std::make_shared<std::string>();
  auto from_stdin = std::make_shared<bool>(false);
  add_registry_flags(cmd, *flags);
  cmd->add_option("-u,--username", *username, "User name")->required();
  cmd->add_option("-p,--password", *password, "Password (prefer --password-stdin)");
  cmd->add_flag("--password-stdin", *from_stdin, "Read the password from standard input");
  cmd->add_option("registry", *registry, "Registry (default: docker.io)");
  cmd->callback([flags, registry, username, password, from_stdin] {
    if (*from_stdin) {
      std::getline(std::cin, *password);
      if (!password->empty() && password->back() == '\r') password->pop_back();
    }
    if (password->empty()) throw Error(ErrorCode::invalid_argument, "login: a password is needed (-p or --password-stdin)");
    make_registry(*flags).login(*registry, Credentials{*username, *password, {}});
    std::cout << "Login Succeeded\n";
  });
}

void add_logout(CLI::App& app) {
  auto* cmd = app.add_subcommand("logout", "Remove the stored credentials of a registry");
  auto flags = std::make_shared<RegistryFlags>();
  auto registry = std::make_shared<std::string>("docker.io");
  add_registry_flags(cmd, *flags);
  cmd->add_option("registry", *registry, "Registry (default: docker.io)");
  cmd->callback([flags, registry] {
    const bool removed = make_registry(*flags).logout(*registry);
    std::cout << (removed ? "Removing login credentials for " : "Not logged in to ") << *registry << '\n';
  });
}

void add_tags(CLI::App& app) {
  auto* cmd = app.add_subcommand("tags", "List the tags of a repository in a registry");
  auto flags = std::make_shared<RegistryFlags>();
  auto repository = std::make_shared<std::string>();
  add_registry_flags(cmd, *flags);
  cmd->add_option("repository", *repository, "Repository, e.g. localhost:5000/app")->required();
  cmd->callback([flags, repository] {
    for (const auto& tag : make_registry(*flags).tags(Reference::parse(*repository))) std::cout << tag << '\n';
  });
}

}  // namespace

void add_registry_commands(CLI::App& app, const Globals& globals) {
  add_pull(app, globals);
  add_push(app, globals);
  add_login(app);
  add_logout(app);
  add_tags(app);
}

}  // namespace knast::cli
