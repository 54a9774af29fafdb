# Unit tests, fuzz targets and the benchmark of the SMB Direct engine.
