"""factline: news articles in, grounded typed facts out."""

# The release: the API's version, and part of the extraction cache's key (a result assembled by another
# release is not served).
__version__ = "0.2.0"
