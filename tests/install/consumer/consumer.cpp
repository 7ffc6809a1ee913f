// Uses the installed C++ API: prints the normalised form of its argument.
#include <knast/knast.hpp>

#include <iostream>

int main(int argc, char** argv) {
  try {
    std::cout << knast::Reference::parse(argc > 1 ? argv[1] : "alpine").string() << '\n';
    return 0;
  } catch (const knast::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
}
