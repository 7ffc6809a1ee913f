// The core commands: version, info, ref, digest, validate.
#include "cli.hpp"

#include <knast/digest.hpp>
#include <knast/document.hpp>
#include <knast/error.hpp>
#include <knast/layout.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>
#include <knast/version.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

namespace knast::cli {
namespace {

// Opens @p path for reading, or standard input for "-"; @p file holds the opened file.
std::istream& open_input(const std::string& path, std::ifstream& file) {
  if (path == "-") return std::cin;
  file.open(path, std::ios::binary);
  if (!file) throw Error(errno, "open " + path + ": " + std::strerror(errno));
  return file;
}

// Reads at most @p limit + 1 bytes, so an oversized document is refused by the parser's
// own size check without the whole file being read into memory.
std::string read_capped(const std::string& path, std::size_t limit) {
  std::ifstream file;
  std::istream* in = &open_input(path, file);
  std::string data(limit + 1, '\0');
  in->read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in->bad()) throw Error(ErrorCode::io, "read " + path + ": read error");
  data.resize(static_cast<std::size_t>(in->gcount()));
  return data;
}

void add_version(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the knast version");
  cmd->callback([] { std::cout << "knast " << knast::version() << '\n'; });
}

void add_info(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("info", "Print this host's platform and where knast keeps its state");
  cmd->callback([&globals] {
    StateLayout layout(globals.state_root());
    std::cout << "version:    " << knast::version() << '\n'
              << "platform:   " << Platform::host().string() << '\n'
              << "state root: " << layout.root().string() << '\n'
              << "store:      " << layout.store().string() << '\n';
  });
}

void add_ref(CLI::App& app) {
  auto* ref = app.add_subcommand("ref", "Work with image references");
  ref->require_subcommand(1);

  auto refs = std::make_shared<std::vector<std::string>>();
  auto* normalize = ref->add_subcommand("normalize", "Print the normalised form of each reference");
  auto familiar = std::make_shared<bool>(false);
  normalize->add_flag("--familiar", *familiar, "Print the short form docker displays instead");
  normalize->add_option("reference", *refs, "References such as alpine or localhost:5000/app:1")->required();
  normalize->callback([refs, familiar] {
    for (const auto& text : *refs) {
      Reference r = Reference::parse(text);
      std::cout << (*familiar ? r.familiar() : r.string()) << '\n';
    }
  });

  auto one = std::make_shared<std::string>();
  auto* inspect = ref->add_subcommand("inspect", "Print the parts of a reference");
  inspect->add_option("reference", *one, "A reference")->required();
  inspect->callback([one] {
    Reference r = Reference::parse(*one);
    std::cout << "reference: " << r.string() << '\n'
              << "familiar:  " << r.familiar() << '\n'
              << "domain:    " << r.domain() << '\n'
              << "path:      " << r.path() << '\n'
              << "tag:       " << r.tag().value_or("") << '\n'
              << "digest:    " << (r.digest() ? r.digest()->string() : std::string()) << '\n';
  });
}

void add_digest(CLI::App& app) {
  auto* cmd = app.add_subcommand("digest", "Print the content digest of files (- for standard input)");
  auto files = std::make_shared<std::vector<std::string>>();
  auto algorithm = std::make_shared<std::string>("sha256");
  cmd->add_option("--algorithm", *algorithm, "sha256 or sha512")->check(CLI::IsMember({"sha256", "sha512"}));
  cmd->add_option("file", *files, "Files to hash")->required();
  cmd->callback([files, algorithm] {
    for (const auto& path : *files) {
      std::ifstream file;
      std::istream* in = &open_input(path, file);
      Hasher hasher(*algorithm == "sha512" ? DigestAlgorithm::sha512 : DigestAlgorithm::sha256);
      std::vector<char> buffer(1 << 16);
      while (in->read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in->gcount() > 0)
        hasher.update(buffer.data(), static_cast<std::size_t>(in->gcount()));
      if (in->bad()) throw Error(ErrorCode::io, "read " + path + ": read error");
      std::cout << hasher.finish().string() << "  " << path << '\n';
    }
  });
}

void add_validate(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate", "Check an OCI document strictly, as knast does when it pulls one");
  auto kind = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  cmd->add_option("kind", *kind, "manifest, index or config")
      ->required()
      ->check(CLI::IsMember({"manifest", "index", "config"}));
  cmd->add_option("file", *file, "The document (- for standard input)")->required();
  cmd->callback([kind, file] {
    DocumentKind document_kind = parse_document_kind(*kind);
    std::string data = read_capped(*file, max_config_bytes);
    try {
      std::cout << validate_document(document_kind, data) << '\n';
    } catch (const Error& e) {
      throw e.with_context(*file);
    }
  });
}

}  // namespace

void add_core_commands(CLI::App& app, const Globals& globals) {
  add_version(app);
  add_info(app, globals);
  add_ref(app);
  add_digest(app);
  add_validate(app);
}

}  // namespace knast::cli
