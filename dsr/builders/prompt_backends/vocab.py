"""Vocabularies of the template backend: animals with the verbs that fit them, static objects,
and scene parts (place, detail, light or ambience) that compose into short scene descriptions.

Scene parts hold no commas and no "then", so that every composed sentence parses unambiguously.
"""

from __future__ import annotations

__all__ = ["AMBIENCES", "ANIMAL_VERBS", "DETAILS", "OBJECTS", "PLACES"]

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
    "raccoon": ("scurries", "climbs", "waddles", "sneaks"),
    "owl": ("flutters", "glides", "flies", "hops"),
    "guinea pig": ("scurries", "waddles", "scampers"),
    "ferret": ("slinks", "darts", "bounds"),
    "chipmunk": ("scampers", "darts", "scurries"),
    "pigeon": ("flutters", "struts", "flies", "hops"),
}

#: static objects an animal can sit beside or on top of.
OBJECTS: tuple[str, ...] = (
    "stump", "rock", "bench", "chair", "crate", "sofa", "basket", "stone", "pot", "box", "stool",
    "cushion", "log", "barrel", "suitcase", "bucket", "tire", "ottoman", "trunk", "table",
    "armchair", "drum", "boulder", "hay bale", "flower pot", "wooden crate", "picnic basket",
    "garden chair", "footstool", "toy chest",
)

PLACES: tuple[str, ...] = (
    "In a narrow attic", "In a cozy living room", "On a sunny porch", "In a quiet forest clearing",
    "In a small backyard garden", "On a wooden deck", "In an old barn", "In a bright kitchen",
    "In a dim basement", "On a grassy hillside", "In a city park", "In a tidy bedroom",
    "On a sandy beach", "In a greenhouse", "In a farmhouse yard", "On a rooftop terrace",
    "In a library corner", "In a snowy courtyard", "By a calm lake shore", "In a rustic cabin",
    "In a stone cellar", "On a country path", "In a flower meadow", "In a cluttered garage",
    "In a sunlit studio", "On a cobblestone square", "In a pine forest", "In a cottage hallway",
    "In a playroom", "On a mossy riverbank",
)

DETAILS: tuple[str, ...] = (
    "with a floor lamp", "with a woven rug", "with potted ferns", "with a stack of old books",
    "with fallen leaves", "with a red brick wall", "with a wooden fence", "with hanging lanterns",
    "with a checkered blanket", "with scattered toys", "with tall grass", "with a bicycle nearby",
    "with a white picket fence", "with a rocking chair", "with a large window",
    "with shelves of jars", "with pebbles on the ground", "with a hanging plant", "with a fireplace",
    "with a striped curtain", "with wildflowers", "with a watering can", "with a tiled floor",
    "with a faded painting", "with a garden hose",
)

AMBIENCES: tuple[str, ...] = (
    "and shadows from the window blinds", "under soft morning light", "in warm afternoon sun",
    "at golden hour", "under a cloudy sky", "in gentle evening light", "on a misty morning",
    "under bright noon light", "in the glow of a lamp", "on a rainy day", "in dappled sunlight",
    "under a clear blue sky", "at dusk", "in cool moonlight", "on a windy afternoon",
    "in hazy light", "with long shadows", "in the first light of dawn", "on a snowy evening",
    "under string lights",
)
