"""The command center (指挥中心): statistics, duty supervision, cameras and the live fan-out."""
