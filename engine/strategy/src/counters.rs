//! What a strategy stage counts (see [`pulse_core::counters`]). A user strategy may declare its
//! own enum with `pulse_core::counters!` and report it beside these.

pulse_core::counters! {
    /// The strategy's counters.
    pub enum StrategyCounter {
        Signals => counter("strategy_signals", "Signals the strategy produced"),
        Intents => counter("strategy_intents", "Order intents sent to risk"),
        AgentSignals => counter("agent_signals", "Signals each trading agent gave the ensemble"),
    }
}
