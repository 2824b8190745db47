"""The toolkit: jobs built on :func:`fastem.fit`: choosing K, the bootstrap LRT and
bootstrap inference, Monte Carlo studies and their MCSEs, simulation, matching components
and figures. Each reaches the engine through :func:`fastem.fit` or the core's helpers."""
