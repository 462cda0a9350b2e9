"""perfspec.runtime: what runs at run time: runners, result readers, the checker, reports, the demo target."""
