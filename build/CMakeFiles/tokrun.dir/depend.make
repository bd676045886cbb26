# Empty dependencies file for tokrun.
# This may be replaced when dependencies are built.
