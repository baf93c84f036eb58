#pragma once
// --emission-factor's value: which of a grid's figures prices the energy.

namespace greenrun {

/// Life-cycle (construction, fuel supply and generation) or direct
/// (generation at the stack only) gCO2e/kWh.
enum class Factor { Lifecycle, Direct };

}  // namespace greenrun
