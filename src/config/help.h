#pragma once
// greenrun --help: the usage line once, the option groups in a fixed order,
// descriptions wrapped to 100 columns, and examples at the end.

#include <string>

namespace CLI {
class App;
}

namespace greenrun {

/// The --help groups, in the order --help shows them; every option's group is one of them.
inline constexpr const char* kHelpGroups[] = {"General", "Output",       "Sampling",  "Monitoring", "CI",     "Grid",
                                              "Carbon-aware", "Footprint", "Estimation", "Sources", "Testing"};

/// Sets greenrun's help layout, description and footer on the main app.
void set_main_help(CLI::App& app);

}  // namespace greenrun
