"""perfspec.compiler: spec text -> validated model -> artifacts. No network, no clock."""
