# Empty dependencies file for tokrun_http.
# This may be replaced when dependencies are built.
