enum WeftTestingPlaceholder {}
