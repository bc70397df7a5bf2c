"""Apple Ads (Search Ads): linked API credentials, campaign snapshots, daily performance
reports and the read API joining them with Orchard's apps and sales."""
