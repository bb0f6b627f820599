"""Vocabularies of the template backend: animals with the verbs that fit them, static objects,
and scene parts (place, detail, light or ambience) that compose into short scene descriptions.

Scene parts hold no commas and no "then", so that every composed sentence parses unambiguously.
Every place is ``indoor`` or ``outdoor``; details, ambiences and objects are tagged with the setting
they fit (or ``any``), so that a composed scene stays plausible: no window on a beach, no clear sky
in a basement, no hay bale in a living room.
"""

from __future__ import annotations

__all__ = ["AMBIENCES", "ANIMAL_VERBS", "DETAILS", "OBJECTS", "PLACES", "SETTINGS", "fitting"]

#: animal → motion verbs (third person) that fit how it moves.
ANIMAL_VERBS: dict[str, tuple[str, ...]] = {
    "rabbit": ("hops", "bounds", "scampers", "leaps"),
    "hamster": ("scurries", "crawls", "scampers", "waddles"),
    "squirrel": ("scampers", "darts", "leaps", "scurries"),
    "cat": ("prowls", "sneaks", "jumps", "pads", "creeps"),
    "dog": ("trots", "runs", "bounds", "walks"),
    "fox": ("sprints", "trots", "slinks", "dashes"),
    "duck": ("waddles", "flaps", "shuffles"),
    "bird": ("flutters", "hops", "flaps", "flies"),
    "kitten": ("pounces", "pads", "tiptoes", "scampers"),
    "puppy": ("trots", "bounds", "scampers", "tumbles"),
    "mouse": ("scurries", "darts", "scampers"),
    "hedgehog": ("shuffles", "trundles", "waddles"),
    "parrot": ("flutters", "hops", "flies", "flaps"),
    "chicken": ("struts", "flaps", "hops", "runs"),
    "goose": ("waddles", "flaps", "marches"),
    "frog": ("hops", "leaps", "jumps"),
    "lizard": ("scuttles", "crawls", "darts"),
    "turtle": ("crawls", "plods", "creeps"),
    "raccoon": ("scurries", "ambles", "waddles", "sneaks"),
    "owl": ("flutters", "glides", "flies", "hops"),
    "guinea pig": ("scurries", "waddles", "scampers"),
    "ferret": ("slinks", "darts", "bounds"),
    "chipmunk": ("scampers", "darts", "scurries"),
    "pigeon": ("flutters", "struts", "flies", "hops"),
}

SETTINGS = ("indoor", "outdoor")

#: static objects an animal can sit beside or on top of → the setting they fit.
OBJECTS: dict[str, str] = {
    "stump": "outdoor",
    "rock": "outdoor",
    "bench": "any",
    "chair": "any",
    "crate": "any",
    "sofa": "indoor",
    "basket": "any",
    "stone": "outdoor",
    "pot": "any",
    "box": "any",
    "stool": "any",
    "cushion": "indoor",
    "log": "outdoor",
    "barrel": "any",
    "suitcase": "any",
    "bucket": "any",
    "tire": "outdoor",
    "ottoman": "indoor",
    "trunk": "any",
    "table": "any",
    "armchair": "indoor",
    "drum": "any",
    "boulder": "outdoor",
    "hay bale": "outdoor",
    "flower pot": "any",
    "wooden crate": "any",
    "picnic basket": "any",
    "garden chair": "outdoor",
    "footstool": "indoor",
    "toy chest": "indoor",
}

PLACES: dict[str, str] = {
    "In a narrow attic": "indoor",
    "In a cozy living room": "indoor",
    "On a sunny porch": "outdoor",
    "In a quiet forest clearing": "outdoor",
    "In a small backyard garden": "outdoor",
    "On a wooden deck": "outdoor",
    "In an old barn": "indoor",
    "In a bright kitchen": "indoor",
    "In a dim basement": "indoor",
    "On a grassy hillside": "outdoor",
    "In a city park": "outdoor",
    "In a tidy bedroom": "indoor",
    "On a sandy beach": "outdoor",
    "In a greenhouse": "indoor",
    "In a farmhouse yard": "outdoor",
    "On a rooftop terrace": "outdoor",
    "In a library corner": "indoor",
    "In a snowy courtyard": "outdoor",
    "By a calm lake shore": "outdoor",
    "In a rustic cabin": "indoor",
    "In a stone cellar": "indoor",
    "On a country path": "outdoor",
    "In a flower meadow": "outdoor",
    "In a cluttered garage": "indoor",
    "In a sunlit studio": "indoor",
    "On a cobblestone square": "outdoor",
    "In a pine forest": "outdoor",
    "In a cottage hallway": "indoor",
    "In a playroom": "indoor",
    "On a mossy riverbank": "outdoor",
}

DETAILS: dict[str, str] = {
    "with a floor lamp": "indoor",
    "with a woven rug": "indoor",
    "with potted ferns": "any",
    "with a stack of old books": "indoor",
    "with fallen leaves": "outdoor",
    "with a red brick wall": "any",
    "with a wooden fence": "outdoor",
    "with hanging lanterns": "any",
    "with a checkered blanket": "any",
    "with scattered toys": "any",
    "with tall grass": "outdoor",
    "with a bicycle nearby": "outdoor",
    "with a white picket fence": "outdoor",
    "with a rocking chair": "any",
    "with a large window": "indoor",
    "with shelves of jars": "indoor",
    "with pebbles on the ground": "outdoor",
    "with a hanging plant": "any",
    "with a fireplace": "indoor",
    "with a striped curtain": "indoor",
    "with wildflowers": "outdoor",
    "with a watering can": "any",
    "with a tiled floor": "indoor",
    "with a faded painting": "indoor",
    "with a garden hose": "outdoor",
}

AMBIENCES: dict[str, str] = {
    "and shadows from the window blinds": "indoor",
    "under soft morning light": "any",
    "in warm afternoon sun": "any",
    "at golden hour": "any",
    "under a cloudy sky": "outdoor",
    "in gentle evening light": "any",
    "on a misty morning": "outdoor",
    "under bright noon light": "any",
    "in the glow of a lamp": "indoor",
    "on a rainy day": "any",
    "in dappled sunlight": "outdoor",
    "under a clear blue sky": "outdoor",
    "at dusk": "any",
    "in cool moonlight": "any",
    "on a windy afternoon": "outdoor",
    "in hazy light": "any",
    "under long evening shadows": "any",
    "in the first light of dawn": "any",
    "on a snowy evening": "any",
    "under string lights": "any",
}


def fitting(items: dict[str, str], setting: str) -> tuple[str, ...]:
    """The items of a tagged vocabulary that fit ``setting`` (its own and the ``any`` ones)."""
    return tuple(item for item, tag in items.items() if tag in (setting, "any"))
