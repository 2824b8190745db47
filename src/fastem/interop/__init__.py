"""Other libraries' interfaces to fastem: scikit-learn's estimator and fits on Dask."""
