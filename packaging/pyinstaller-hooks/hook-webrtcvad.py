# The contributed hook copies the metadata of a distribution named "webrtcvad", but ESER Studio
# installs the same module from "webrtcvad-wheels"; the module does not read its metadata.
from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")
