"""Where 临淄区's towns (街道、镇) are: each 司法所 serves one, by its ``area_name``.

The map labels its offices there and the demo places homes around them. Another district
loads its own list.
"""

# Approximate town centres (WGS-84).
TOWN_CENTRES = {
    "闻韶街道": (36.822, 118.305), "雪宫街道": (36.806, 118.318), "辛店街道": (36.798, 118.285),
    "稷下街道": (36.835, 118.262), "齐陵街道": (36.770, 118.360), "齐都镇": (36.860, 118.345),
    "皇城镇": (36.895, 118.410), "敬仲镇": (36.930, 118.420), "朱台镇": (36.930, 118.285),
    "凤凰镇": (36.885, 118.215), "金岭回族镇": (36.800, 118.190), "金山镇": (36.735, 118.290),
}
