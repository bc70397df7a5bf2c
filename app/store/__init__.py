"""Public App Store data: chart ranks and star-rating snapshots per storefront, for every
linked app and any app a workspace tracks by its Apple id."""
