#pragma once
// What the user asked of the process tree (--scope, --tree); commands/options.cc
// fills it from the option table.

namespace greenrun {

/// --scope: the command's share of the machine, or the whole machine.
enum class Scope { Process, Machine };
/// How the command's process tree is followed (--tree).
enum class TreeMethod { Auto, Cgroup, Proc };

struct TreeOptions {
  Scope scope = Scope::Process;
  TreeMethod method = TreeMethod::Auto;
};

}  // namespace greenrun
